import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { SfuConfig } from './config.ts';
import { serveSfuRpc } from './rpc-server.ts';
import { SessionRouters } from './session-routers.ts';
import { WorkerPool } from './worker-pool.ts';

export interface SfuService {
  /** The RPC port actually bound (useful when configured as 0). */
  rpcPort: number;
  routers: SessionRouters;
  close(): Promise<void>;
}

/** Starts the workers, the internal RPC endpoint and a `/healthz` route on the RPC port. */
export async function startSfuService(config: SfuConfig, logger: Logger): Promise<SfuService> {
  const pool = await WorkerPool.start({
    size: config.SFU_WORKERS,
    listenIp: config.SFU_LISTEN_IP,
    announcedAddress: config.SFU_ANNOUNCED_ADDRESS,
    rtcPort: config.SFU_RTC_PORT,
    logger,
  });

  const httpServer = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/healthz') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: 'ok', service: 'sfu', workers: pool.size, mediaPorts: pool.ports() }));
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: { code: 'not_found', message: 'not found' } }));
  });

  const routers: SessionRouters = new SessionRouters({
    pool,
    idleMs: config.SFU_ROUTER_IDLE_MS,
    initialOutgoingBitrate: config.SFU_INITIAL_OUTGOING_BITRATE,
    logger,
    events: (sessionId) => ({
      consumerClosed: (ownerId, participantId, consumerId) =>
        io.to(ownerId).emit('consumer:closed', { sessionId, participantId, consumerId }),
      producerClosed: (ownerId, participantId, producerId) =>
        io.to(ownerId).emit('producer:closed', { sessionId, participantId, producerId }),
      participantClosed: (ownerId, participantId) =>
        io.to(ownerId).emit('participant:closed', { sessionId, participantId }),
      activeSpeaker: (participantId) => {
        void routers.find(sessionId).then((router) => {
          for (const ownerId of router?.owners() ?? []) {
            io.to(ownerId).emit('speaker:active', { sessionId, participantId });
          }
        });
      },
    }),
  });
  const io = serveSfuRpc({ httpServer, secret: config.SFU_RPC_SECRET, routers: () => routers, logger });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.SFU_RPC_PORT, config.SFU_RPC_HOST, resolve);
  }).catch((error: unknown) => {
    pool.close();
    throw error;
  });
  const rpcPort = (httpServer.address() as AddressInfo).port;
  logger.info({ rpcPort, workers: pool.size }, 'sfu listening');

  return {
    rpcPort,
    routers,
    async close() {
      await io.close();
      pool.close();
    },
  };
}
