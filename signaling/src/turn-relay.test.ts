import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SESSION_ID } from '@telemed/domain';
import {
  joinDemo,
  request,
  send,
  startConferenceTestSystem,
  type ConferenceClient,
  type ConferenceTestSystem,
} from './conference-test-system.ts';
import { readSignalingConfig } from './config.ts';
import { turnCredentialFor } from './turn-credentials.ts';

const TURN = {
  urls: ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp', 'turns:127.0.0.1:443?transport=tcp'],
  secret: 'turn-relay-test-secret-0123456789',
};

describe('TURN credentials and transport paths through signaling, with a real SFU', () => {
  let system: ConferenceTestSystem;
  const clients: ConferenceClient[] = [];
  const connect = async (username: string) => {
    const client = await system.connect(username);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    system = await startConferenceTestSystem({ turn: TURN });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await expect.poll(() => system.redis.hLen(`conference:${DEMO_SESSION_ID}:participants`)).toBe(0);
  });
  afterAll(async () => {
    await system?.close();
  });

  it('issues credentials only to a socket in a session, naming the account and the session', async () => {
    const sato = await connect('sato');
    expect(await send(sato, 'turn:credentials', {})).toMatchObject({ ok: false, error: { code: 'conflict' } });
    await joinDemo(sato);
    const answer = await request(sato, 'turn:credentials', {});
    const [server] = answer.iceServers;
    expect(server?.urls).toEqual(TURN.urls);
    const satoId = await system.accountId('sato');
    expect(server?.username).toMatch(new RegExp(`^\\d+:${satoId}\\.session\\.${DEMO_SESSION_ID}$`));
    expect(server?.credential).toBe(turnCredentialFor(TURN.secret, server!.username!));
    // Short-lived: an hour by default.
    const expiresInS = (Date.parse(answer.expiresAt!) - Date.now()) / 1000;
    expect(expiresInS).toBeGreaterThan(3500);
    expect(expiresInS).toBeLessThanOrEqual(3600);
    // Audited with the username, never the credential.
    const [entry] = (await system.recentAudit(5)).filter((one) => one.action === 'turn.credentials-issued');
    expect(entry).toMatchObject({ outcome: 'success', actorAccountId: satoId, sessionId: DEMO_SESSION_ID });
    expect(JSON.stringify(entry)).toContain(server!.username!);
    expect(JSON.stringify(entry)).not.toContain(server!.credential!);
  });

  it('keeps the path each transport reports for the host’s media statistics, until the participant leaves', async () => {
    const tanaka = await connect('tanaka');
    const sato = await connect('sato');
    await joinDemo(tanaka);
    const { self } = await joinDemo(sato);
    await request(sato, 'transport:create', { direction: 'send' });
    expect(await send(sato, 'transport:path', { direction: 'send', path: 'satellite' } as never)).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
    await request(sato, 'transport:path', { direction: 'send', path: 'turn-tls' });
    const report = await request(tanaka, 'session:media-stats', {});
    const satoMedia = report.participants.find((one) => one.participantId === self.participantId);
    expect(satoMedia?.transportPaths).toEqual({ send: 'turn-tls', recv: null });

    await request(sato, 'session:leave', {});
    expect(await system.redis.hExists(`conference:${DEMO_SESSION_ID}:transport-paths`, self.participantId)).toBe(0);
  });

  it('opens the pre-call TURN/TLS probe relay-only through the turns: URL', async () => {
    const client = await connect('kobayashi');
    const opening = await request(client, 'probe:open', { path: 'turn-tls' });
    if (!opening.available) throw new Error('TURN/TLS is configured here');
    expect(opening.iceTransportPolicy).toBe('relay');
    expect(opening.iceServers).toEqual([
      {
        urls: ['turns:127.0.0.1:443?transport=tcp'],
        username: expect.stringMatching(/\.probe$/),
        credential: expect.any(String),
      },
    ]);
    expect(opening.transport.iceCandidates.map((candidate) => candidate.protocol)).toEqual(['udp']);
    await request(client, 'probe:close', { probeId: opening.probeId });
  });
});

describe('TURN configuration', () => {
  const base = { REDIS_URL: 'redis://127.0.0.1:6379', AUTH_SECRET: 'a'.repeat(32), SFU_RPC_SECRET: 'b'.repeat(32) };

  it('needs URLs and the secret together, and only turn:/turns: URLs', () => {
    expect(readSignalingConfig(base).TURN_URLS).toEqual([]);
    expect(() => readSignalingConfig({ ...base, TURN_URLS: TURN.urls.join(',') })).toThrow(/TURN_SECRET/);
    expect(() => readSignalingConfig({ ...base, TURN_URLS: 'http://x', TURN_SECRET: TURN.secret })).toThrow(
      /turn: or turns:/,
    );
    const config = readSignalingConfig({ ...base, TURN_URLS: TURN.urls.join(', '), TURN_SECRET: TURN.secret });
    expect(config.TURN_URLS).toEqual(TURN.urls);
    expect(config.TURN_CREDENTIAL_LIFETIME_S).toBe(3600);
  });
});
