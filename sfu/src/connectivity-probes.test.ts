import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContractError, type Ack } from '@telemed/contract';
import { SFU_RPC_PATH } from '@telemed/contract/sfu-rpc';
import { freeMediaPorts } from '../../stack/free-port.ts';
import { readSfuConfig } from './config.ts';
import { ConnectivityProbes } from './connectivity-probes.ts';
import { startSfuService, type SfuService } from './sfu-service.ts';
import { WorkerPool } from './worker-pool.ts';

const quiet = pino({ level: 'silent' });
const FINGERPRINT = {
  algorithm: 'sha-256',
  value: 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99',
};

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => (error instanceof ContractError ? error.code : error),
  );

describe('connectivity probes on a real mediasoup worker', () => {
  let pool: WorkerPool;
  let mediaPort: number;

  beforeAll(async () => {
    mediaPort = await freeMediaPorts(1);
    pool = await WorkerPool.start({
      size: 1,
      listenIp: '127.0.0.1',
      announcedAddress: '192.0.2.10',
      rtcPort: mediaPort,
      logger: quiet,
    });
  });
  afterAll(() => pool?.close());

  const probesWith = (options: { lifetimeMs?: number; maxOpen?: number } = {}) =>
    new ConnectivityProbes({ pool, lifetimeMs: 60_000, maxOpen: 10, logger: quiet, ...options });

  it('offers one protocol per probe, on the worker’s media port at the announced address, with SCTP', async () => {
    const probes = probesWith();
    try {
      const udp = await probes.open('node-a', 'udp');
      const tcp = await probes.open('node-a', 'tcp');
      expect(udp.transport.iceCandidates.map(({ protocol, address, port }) => [protocol, address, port])).toEqual([
        ['udp', '192.0.2.10', mediaPort],
      ]);
      expect(tcp.transport.iceCandidates.map(({ protocol, address, port }) => [protocol, address, port])).toEqual([
        ['tcp', '192.0.2.10', mediaPort],
      ]);
      expect(udp.transport.sctpParameters).toMatchObject({ port: 5000, maxReceiveMessageSize: expect.any(Number) });
      expect(udp.routerRtpCapabilities.codecs?.length).toBeGreaterThan(0);
      expect(udp.mediaPorts).toEqual([mediaPort]);
      expect(udp.probeId).not.toBe(tcp.probeId);
      expect(probes.openCount).toBe(2);

      // The browser's side: DTLS parameters and its one data channel.
      await probes.connect('node-a', udp.probeId, { role: 'client', fingerprints: [FINGERPRINT] });
      const dataProducerId = await probes.produce('node-a', udp.probeId, {
        sctpStreamParameters: { streamId: 0, ordered: true },
        label: 'probe',
        protocol: '',
      });
      expect(dataProducerId).toEqual(expect.any(String));
      expect(
        await rejection(
          probes.produce('node-a', udp.probeId, { sctpStreamParameters: { streamId: 1 }, label: '', protocol: '' }),
        ),
      ).toBe('conflict');

      probes.close('node-a', udp.probeId);
      expect(probes.openCount).toBe(1);
      expect(await rejection(probes.connect('node-a', udp.probeId, { fingerprints: [FINGERPRINT] }))).toBe('not_found');
    } finally {
      probes.closeAll();
    }
  });

  it('keeps each signaling node’s probes to itself and closes them with it', async () => {
    const probes = probesWith();
    try {
      const mine = await probes.open('node-a', 'udp');
      await probes.open('node-a', 'tcp');
      const theirs = await probes.open('node-b', 'udp');
      expect(() => probes.close('node-b', mine.probeId)).toThrow(expect.objectContaining({ code: 'forbidden' }));
      expect(() => probes.close('node-a', '7d1f3a52-0000-4000-8000-000000000000')).toThrow(
        expect.objectContaining({ code: 'not_found' }),
      );
      probes.closeOwner('node-a');
      expect(probes.openCount).toBe(1);
      probes.close('node-b', theirs.probeId);
      expect(probes.openCount).toBe(0);
    } finally {
      probes.closeAll();
    }
  });

  it('refuses probes beyond the limit, counting those still being created', async () => {
    const probes = probesWith({ maxOpen: 3 });
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, (_, index) => probes.open(`node-${index}`, index % 2 ? 'tcp' : 'udp')),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(3);
      expect(
        results.flatMap((result) => (result.status === 'rejected' ? [(result.reason as ContractError).code] : [])),
      ).toEqual(['conflict', 'conflict']);
      const first = results.find((result) => result.status === 'fulfilled')!;
      probes.close('node-0', first.value.probeId);
      await expect(probes.open('node-9', 'udp')).resolves.toMatchObject({ probeId: expect.any(String) });
    } finally {
      probes.closeAll();
    }
  });

  it('closes a probe after its lifetime, whatever the browser does', async () => {
    const probes = probesWith({ lifetimeMs: 200 });
    try {
      const probe = await probes.open('node-a', 'udp');
      expect(probes.openCount).toBe(1);
      await expect.poll(() => probes.openCount, { timeout: 10_000 }).toBe(0);
      expect(await rejection(probes.connect('node-a', probe.probeId, { fingerprints: [FINGERPRINT] }))).toBe(
        'not_found',
      );
    } finally {
      probes.closeAll();
    }
  });
});

describe('connectivity probes through the SFU RPC endpoint', () => {
  const SECRET = 'sfu-probe-test-secret-0123456789abcdef';
  let sfu: SfuService;

  beforeAll(async () => {
    sfu = await startSfuService(
      readSfuConfig({
        SFU_RPC_PORT: '0',
        SFU_RPC_SECRET: SECRET,
        SFU_WORKERS: '1',
        SFU_LISTEN_IP: '127.0.0.1',
        SFU_RTC_PORT: String(await freeMediaPorts(1)),
      }),
      quiet,
    );
  });
  afterAll(async () => {
    await sfu?.close();
  });

  it('validates probe requests and closes a signaling node’s probes when it disconnects', async () => {
    const node: Socket = io(`http://127.0.0.1:${sfu.rpcPort}`, {
      path: SFU_RPC_PATH,
      transports: ['websocket'],
      reconnection: false,
      auth: { secret: SECRET },
    });
    await new Promise<void>((resolve, reject) => {
      node.once('connect', resolve);
      node.once('connect_error', reject);
    });
    const call = (event: string, payload: unknown) =>
      node.timeout(5000).emitWithAck(event, payload) as Promise<Ack<Record<string, unknown>>>;
    try {
      expect(await call('probe:open', { protocol: 'sctp' })).toMatchObject({
        ok: false,
        error: { code: 'invalid_payload' },
      });
      expect(await call('probe:close', { probeId: 'not-a-uuid' })).toMatchObject({
        ok: false,
        error: { code: 'invalid_payload' },
      });
      const opened = await call('probe:open', { protocol: 'tcp' });
      expect(opened).toMatchObject({ ok: true, data: { probeId: expect.any(String), expiresInMs: 30_000 } });
      await call('probe:open', { protocol: 'udp' });
      expect(sfu.probes.openCount).toBe(2);
    } finally {
      node.close();
    }
    await expect.poll(() => sfu.probes.openCount, { timeout: 10_000 }).toBe(0);
  });
});
