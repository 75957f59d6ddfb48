import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConferenceResponses } from '@telemed/contract';
import { MAX_OPEN_PROBES, MAX_PROBES_PER_CONNECTION } from './connectivity-check.ts';
import { request, send, startConferenceTestSystem, type ConferenceTestSystem } from './conference-test-system.ts';

type Opening = ConferenceResponses['probe:open'];

/** The probe's id (failing the test when the path was not offered). */
function probeIdOf(opening: Opening): string {
  if (!opening.available) throw new Error('probe not offered');
  return opening.probeId;
}

const FINGERPRINT = {
  algorithm: 'sha-256',
  value: '00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF',
};

describe('the pre-call check’s connectivity probes through signaling, with a real SFU', () => {
  let system: ConferenceTestSystem;

  beforeAll(async () => {
    system = await startConferenceTestSystem();
  });
  afterAll(async () => {
    await system?.close();
  });

  it('refuses sockets that are not signed in', async () => {
    await expect(system.connect('sato', { token: null })).rejects.toThrow('unauthenticated');
  });

  it('opens a UDP-only and a TCP-only probe with a data channel, outside any session', async () => {
    // An account with no session at all (IT staff checking a PC) may probe.
    const client = await system.connect('kobayashi');
    const udp = await request(client, 'probe:open', { path: 'udp' });
    const tcp = await request(client, 'probe:open', { path: 'tcp' });
    if (!udp.available || !tcp.available) throw new Error('UDP and TCP are always offered');
    expect(udp.transport.iceCandidates.map((candidate) => candidate.protocol)).toEqual(['udp']);
    expect(tcp.transport.iceCandidates.map((candidate) => candidate.protocol)).toEqual(['tcp']);
    expect(udp.transport.iceCandidates[0]).toMatchObject({ address: '127.0.0.1', port: udp.mediaPorts[0] });
    expect(udp).toMatchObject({ iceServers: [], iceTransportPolicy: 'all', expiresInMs: expect.any(Number) });
    expect(udp.transport.sctpParameters.port).toEqual(expect.any(Number));
    expect(system.sfu.probes.openCount).toBe(2);

    await request(client, 'probe:connect', {
      probeId: udp.probeId,
      dtlsParameters: { role: 'client', fingerprints: [FINGERPRINT] },
    });
    const { dataProducerId } = await request(client, 'probe:produce', {
      probeId: udp.probeId,
      sctpStreamParameters: { streamId: 0, ordered: true },
      label: 'connectivity-probe',
      protocol: '',
    });
    expect(dataProducerId).toEqual(expect.any(String));
    // No session's router was touched.
    expect(await system.sfu.routers.all()).toEqual([]);

    await request(client, 'probe:close', { probeId: udp.probeId });
    await request(client, 'probe:close', { probeId: tcp.probeId });
    expect(system.sfu.probes.openCount).toBe(0);
    client.close();
  });

  it('says honestly that no TURN server is configured', async () => {
    const client = await system.connect('suzuki');
    expect(await request(client, 'probe:open', { path: 'turn-tls' })).toEqual({
      available: false,
      reason: 'not-configured',
    });
    client.close();
  });

  it('refuses unknown probes, other connections’ probes and malformed requests', async () => {
    const owner = await system.connect('sato');
    const other = await system.connect('sato');
    const probeId = probeIdOf(await request(owner, 'probe:open', { path: 'udp' }));
    const unknown = '3f1c2b4a-0000-4000-8000-000000000000';
    for (const [client, id] of [
      [owner, unknown],
      [other, probeId],
    ] as const) {
      expect(await send(client, 'probe:close', { probeId: id })).toMatchObject({
        ok: false,
        error: { code: 'not_found' },
      });
      expect(
        await send(client, 'probe:connect', { probeId: id, dtlsParameters: { fingerprints: [FINGERPRINT] } }),
      ).toMatchObject({ ok: false, error: { code: 'not_found' } });
    }
    expect(
      await send(owner, 'probe:produce', {
        probeId,
        sctpStreamParameters: { streamId: -1 },
        label: '',
        protocol: '',
      }),
    ).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    expect(await send(owner, 'probe:open', { path: 'quic' } as never)).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
    expect(system.sfu.probes.openCount).toBe(1);
    owner.close();
    other.close();
    // The socket went away: its probe is closed at once.
    await expect.poll(() => system.sfu.probes.openCount, { timeout: 10_000 }).toBe(0);
  });

  it('bounds probes per connection: a few at once, a dozen in all', async () => {
    const client = await system.connect('tanaka');
    const opened = await Promise.all(
      Array.from({ length: MAX_OPEN_PROBES + 2 }, () => send(client, 'probe:open', { path: 'tcp' })),
    );
    expect(opened.filter((ack) => ack.ok)).toHaveLength(MAX_OPEN_PROBES);
    expect(opened.filter((ack) => !ack.ok)).toEqual(
      Array.from({ length: 2 }, () => ({ ok: false, error: { code: 'conflict', message: expect.any(String) } })),
    );
    let used = MAX_OPEN_PROBES;
    for (const ack of opened) if (ack.ok) await request(client, 'probe:close', { probeId: probeIdOf(ack.data) });
    while (used < MAX_PROBES_PER_CONNECTION) {
      const probeId = probeIdOf(await request(client, 'probe:open', { path: 'udp' }));
      await request(client, 'probe:close', { probeId });
      used++;
    }
    expect(await send(client, 'probe:open', { path: 'udp' })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    // A new connection (the page opened again) may check again.
    const again = await system.connect('tanaka');
    probeIdOf(await request(again, 'probe:open', { path: 'udp' }));
    client.close();
    again.close();
    await expect.poll(() => system.sfu.probes.openCount, { timeout: 10_000 }).toBe(0);
  });
});
