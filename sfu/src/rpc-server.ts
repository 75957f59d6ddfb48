import { timingSafeEqual } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import { Server, type Socket } from 'socket.io';
import { ContractError } from '@telemed/contract';
import { dispatchRequests, type RequestHandlers } from '@telemed/contract/server';
import {
  SFU_RPC_PATH,
  sfuRequestSchemas,
  sfuRpcAuthSchema,
  type SfuClientEvents,
  type SfuNotifications,
  type SfuResponses,
} from '@telemed/contract/sfu-rpc';
import { probeRpcHandlers, type ConnectivityProbes, type ProbeRequestName } from './connectivity-probes.ts';
import type { SessionRouters } from './session-routers.ts';

type RpcServer = Server<SfuClientEvents, SfuNotifications>;
type RpcSocket = Socket<SfuClientEvents, SfuNotifications>;

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The SFU's internal RPC endpoint for signaling nodes. Each signaling connection owns the
 * participants it opens; when it goes away, so does their media.
 */
export function serveSfuRpc(options: {
  httpServer: HttpServer;
  secret: string;
  routers: () => SessionRouters;
  probes: ConnectivityProbes;
  logger: Logger;
}): RpcServer {
  const { httpServer, secret, logger } = options;
  const io: RpcServer = new Server(httpServer, {
    path: SFU_RPC_PATH,
    serveClient: false,
    transports: ['websocket'],
    maxHttpBufferSize: 256 * 1024,
  });

  io.use((socket, next) => {
    const auth = sfuRpcAuthSchema.safeParse(socket.handshake.auth);
    if (auth.success && sameSecret(auth.data.secret, secret)) return next();
    logger.warn({ address: socket.handshake.address }, 'refused SFU RPC connection: bad secret');
    next(new Error('unauthenticated'));
  });

  io.on('connection', (socket: RpcSocket) => {
    const ownerId = socket.id;
    const log = logger.child({ signaling: ownerId });
    log.info({ address: socket.handshake.address }, 'signaling node connected');
    dispatchRequests<typeof sfuRequestSchemas, SfuResponses>(
      socket,
      sfuRequestSchemas,
      { ...rpcHandlers(options.routers(), ownerId), ...probeRpcHandlers(options.probes, ownerId) },
      {
        onUnexpectedError: (event, error) => log.error({ err: error, event }, 'SFU request failed'),
        onUnanswerable: (event) => log.warn({ event }, 'SFU request without ack ignored'),
      },
    );
    socket.on('disconnect', (reason) => {
      log.info({ reason }, 'signaling node disconnected; closing its participants');
      options.probes.closeOwner(ownerId);
      void options
        .routers()
        .all()
        .then((routers) => {
          for (const router of routers) {
            router.closeOwner(ownerId);
            options.routers().scheduleIdleClose(router);
          }
        });
    });
  });
  return io;
}

function rpcHandlers(
  routers: SessionRouters,
  ownerId: string,
): Omit<RequestHandlers<typeof sfuRequestSchemas, SfuResponses>, ProbeRequestName> {
  /** The session's router; requests about media never create one. */
  const opened = async (sessionId: string) => {
    const router = await routers.find(sessionId);
    if (!router || router.closed) throw new ContractError('not_found', 'no media is open for this session');
    return router;
  };
  return {
    'router:capabilities': async ({ sessionId }) => ({
      rtpCapabilities: (await routers.get(sessionId)).rtpCapabilities,
    }),
    'participant:open': async ({ sessionId, participantId, rtpCapabilities }) => {
      const router = await routers.get(sessionId);
      router.open(participantId, ownerId, rtpCapabilities);
      routers.scheduleIdleClose(router);
      return {};
    },
    'participant:close': async ({ sessionId, participantId }) => {
      const router = await routers.find(sessionId);
      if (router) {
        router.close(participantId);
        routers.scheduleIdleClose(router);
      }
      return {};
    },
    'transport:create': async ({ sessionId, participantId, direction, maxKbps }) =>
      (await opened(sessionId)).createTransport(participantId, ownerId, direction, maxKbps ?? null),
    'transport:connect': async ({ sessionId, participantId, transportId, dtlsParameters }) => {
      await (await opened(sessionId)).connectTransport(participantId, ownerId, transportId, dtlsParameters);
      return {};
    },
    'transport:restart-ice': async ({ sessionId, participantId, transportId }) => ({
      iceParameters: await (await opened(sessionId)).restartIce(participantId, ownerId, transportId),
    }),
    'participant:downlink': async ({ sessionId, participantId }) =>
      (await opened(sessionId)).downlink(participantId, ownerId),
    'producer:create': async ({ sessionId, participantId, ...request }) => ({
      producerId: await (await opened(sessionId)).produce(participantId, ownerId, request),
    }),
    'producer:pause': async ({ sessionId, participantId, producerId }) => {
      await (await opened(sessionId)).setProducerPaused(participantId, ownerId, producerId, true);
      return {};
    },
    'producer:resume': async ({ sessionId, participantId, producerId }) => {
      await (await opened(sessionId)).setProducerPaused(participantId, ownerId, producerId, false);
      return {};
    },
    'producer:close': async ({ sessionId, participantId, producerId }) => {
      (await opened(sessionId)).closeProducer(participantId, ownerId, producerId);
      return {};
    },
    'consumer:create': async ({ sessionId, participantId, producerId }) =>
      (await opened(sessionId)).consume(participantId, ownerId, producerId),
    'consumer:resume': async ({ sessionId, participantId, consumerId }) => {
      await (await opened(sessionId)).setConsumerPaused(participantId, ownerId, consumerId, false);
      return {};
    },
    'consumer:pause': async ({ sessionId, participantId, consumerId }) => {
      await (await opened(sessionId)).setConsumerPaused(participantId, ownerId, consumerId, true);
      return {};
    },
    'consumer:layers': async ({ sessionId, participantId, consumerId, ...layers }) => {
      await (await opened(sessionId)).setConsumerLayers(participantId, ownerId, consumerId, layers);
      return {};
    },
    'session:presenter': async ({ sessionId, participantId }) => {
      await (await routers.find(sessionId))?.setPresenter(participantId);
      return {};
    },
    'session:media': async ({ sessionId, detail }) => routers.stats(sessionId, { detail }),
  };
}
