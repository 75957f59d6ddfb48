import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ack } from '@telemed/contract';
import { SFU_RPC_PATH } from '@telemed/contract/sfu-rpc';
import { freeMediaPorts } from '../../stack/free-port.ts';
import { readSfuConfig } from './config.ts';
import { startSfuService, type SfuService } from './sfu-service.ts';

const SECRET = 'sfu-rpc-test-secret-0123456789abcdef';
const SESSION = '0b7a4a52-54a4-4c7e-9f35-2b8d1c3e4f50';
const PARTICIPANT = '6e0f3c7d-2a9b-4d1e-8c5f-7a6b5c4d3e2f';

describe('the SFU RPC endpoint', () => {
  let sfu: SfuService;
  const sockets: Socket[] = [];

  const connect = async (secret: string): Promise<Socket> => {
    const socket = io(`http://127.0.0.1:${sfu.rpcPort}`, {
      path: SFU_RPC_PATH,
      transports: ['websocket'],
      reconnection: false,
      auth: { secret },
    });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return socket;
  };
  const call = (socket: Socket, event: string, payload: unknown) =>
    socket.timeout(5000).emitWithAck(event, payload) as Promise<Ack<Record<string, unknown>>>;

  beforeAll(async () => {
    sfu = await startSfuService(
      readSfuConfig({
        SFU_RPC_PORT: '0',
        SFU_RPC_SECRET: SECRET,
        SFU_WORKERS: '1',
        SFU_LISTEN_IP: '127.0.0.1',
        SFU_RTC_PORT: String(await freeMediaPorts(1)),
        SFU_ROUTER_IDLE_MS: '100',
      }),
      pino({ level: 'silent' }),
    );
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await sfu?.close();
  });

  it('refuses connections without the shared secret', async () => {
    await expect(connect('wrong-secret')).rejects.toThrow('unauthenticated');
  });

  it("keeps each signaling node's participants to itself and frees them when it goes away", async () => {
    const nodeA = await connect(SECRET);
    const nodeB = await connect(SECRET);
    const capabilities = await call(nodeA, 'router:capabilities', { sessionId: SESSION });
    expect(capabilities.ok).toBe(true);
    const rtpCapabilities = capabilities.ok ? capabilities.data.rtpCapabilities : {};
    expect(
      await call(nodeA, 'participant:open', { sessionId: SESSION, participantId: PARTICIPANT, rtpCapabilities }),
    ).toEqual({
      ok: true,
      data: {},
    });
    const transport = await call(nodeA, 'transport:create', {
      sessionId: SESSION,
      participantId: PARTICIPANT,
      direction: 'recv',
    });
    expect(transport.ok).toBe(true);

    // Another node may not act for that participant.
    expect(
      await call(nodeB, 'transport:create', { sessionId: SESSION, participantId: PARTICIPANT, direction: 'send' }),
    ).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(
      await call(nodeB, 'participant:open', { sessionId: SESSION, participantId: PARTICIPANT, rtpCapabilities }),
    ).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    expect((await sfu.routers.stats(SESSION)).transports).toBe(1);

    nodeA.close();
    await expect.poll(() => sfu.routers.stats(SESSION).then((stats) => stats.transports)).toBe(0);
    // And the empty router closes after its idle time.
    await expect.poll(() => sfu.routers.stats(SESSION).then((stats) => stats.routerOpen)).toBe(false);
  });

  it('answers media requests for sessions without media with not_found, never creating a router', async () => {
    const node = await connect(SECRET);
    const other = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
    expect(
      await call(node, 'transport:create', { sessionId: other, participantId: PARTICIPANT, direction: 'send' }),
    ).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    expect((await sfu.routers.stats(other)).routerOpen).toBe(false);
  });
});
