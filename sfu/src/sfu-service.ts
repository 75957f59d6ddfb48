import type { Logger } from 'pino';
import { createHealthServer, listen } from '@telemed/contract/server';
import type { SfuConfig } from './config.ts';
import { ConnectivityProbes } from './connectivity-probes.ts';
import { serveSfuRpc } from './rpc-server.ts';
import { SessionRouters } from './session-routers.ts';
import { WorkerPool } from './worker-pool.ts';

export interface SfuService {
  /** The RPC port actually bound (useful when configured as 0). */
  rpcPort: number;
  routers: SessionRouters;
  pool: WorkerPool;
  /** The pre-call check's connectivity probes. */
  probes: ConnectivityProbes;
  close(): Promise<void>;
}

/**
 * A connectivity probe is closed after this long: enough for a browser to try the path (it
 * gives up after 10 s) and read its statistics.
 */
const PROBE_LIFETIME_MS = 30_000;

/** Starts the workers, the internal RPC endpoint and a `/healthz` route on the RPC port. */
export async function startSfuService(config: SfuConfig, logger: Logger): Promise<SfuService> {
  const pool = await WorkerPool.start({
    size: config.SFU_WORKERS,
    listenIp: config.SFU_LISTEN_IP,
    extraListenIps: config.SFU_EXTRA_LISTEN_IPS,
    announcedAddress: config.SFU_ANNOUNCED_ADDRESS,
    rtcPort: config.SFU_RTC_PORT,
    logger,
  });

  const httpServer = createHealthServer('sfu', () => ({
    healthy: pool.size > 0,
    workers: pool.size,
    mediaPorts: pool.ports(),
  }));

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
      consumerQuality: (ownerId, participantId, quality) =>
        io.to(ownerId).emit('consumer:quality', { sessionId, participantId, ...quality }),
      producerLayersNeeded: (ownerId, participantId, producerId, spatialLayer) =>
        io.to(ownerId).emit('producer:layers-needed', { sessionId, participantId, producerId, spatialLayer }),
      activeSpeaker: (participantId) => {
        void routers.find(sessionId).then((router) => {
          for (const ownerId of router?.owners() ?? []) {
            io.to(ownerId).emit('speaker:active', { sessionId, participantId });
          }
        });
      },
    }),
  });
  const probes = new ConnectivityProbes({
    pool,
    lifetimeMs: PROBE_LIFETIME_MS,
    maxOpen: config.SFU_MAX_PROBES,
    logger: logger.child({ component: 'connectivity-probes' }),
  });
  const io = serveSfuRpc({ httpServer, secret: config.SFU_RPC_SECRET, routers: () => routers, probes, logger });

  const rpcPort = await listen(httpServer, config.SFU_RPC_PORT, config.SFU_RPC_HOST).catch((error: unknown) => {
    pool.close();
    throw error;
  });
  logger.info({ rpcPort, workers: pool.size }, 'sfu listening');

  return {
    rpcPort,
    routers,
    pool,
    probes,
    async close() {
      await io.close();
      probes.closeAll();
      pool.close();
    },
  };
}
