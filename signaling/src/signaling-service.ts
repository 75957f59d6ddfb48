import { createAdapter } from '@socket.io/redis-adapter';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import { AccessTokenError, verifyAccessToken } from '@telemed/contract/access-token';
import { createHealthServer, listen } from '@telemed/contract/server';
import type { ConferenceClientEvents, ConferenceNotifications } from '@telemed/contract';
import {
  AccountStore,
  AuditLog,
  SessionAdmission,
  SessionChatLog,
  SessionStore,
  SiteStore,
  connectRedis,
  publishDomainEvent,
  type RedisClient,
} from '@telemed/domain';
import { turnSettingsOf, type SignalingConfig } from './config.ts';
import {
  ConferenceParticipant,
  roomOf,
  type ConferenceDependencies,
  type SocketData,
} from './conference-participant.ts';
import { ConferencePresence } from './conference-presence.ts';
import { JointReadStore } from './joint-read-store.ts';
import { ScreenShareStore } from './screen-share-store.ts';
import { RaisedHands } from './raised-hands.ts';
import { SessionAccessWatch } from './session-access-watch.ts';
import { SfuClient } from './sfu-client.ts';
import { TransportPathStore } from './transport-path-store.ts';

export interface SignalingService {
  port: number;
  io: Server<ConferenceClientEvents, ConferenceNotifications, object, SocketData>;
  close(): Promise<void>;
}

/** Largest Socket.IO message accepted from a browser; SDP-sized payloads fit easily. */
const MAX_MESSAGE_BYTES = 64 * 1024;

export async function startSignalingService(config: SignalingConfig, logger: Logger): Promise<SignalingService> {
  const redisError = (error: Error) => logger.error({ err: error }, 'redis error');
  const redis = await connectRedis(config.REDIS_URL, redisError);
  // The Socket.IO adapter needs its own publishing and subscribing connections.
  const adapterPub: RedisClient = redis.duplicate();
  const adapterSub: RedisClient = redis.duplicate();
  // Domain events (session ended, account deactivated…) arrive on a subscribing connection of their own.
  const eventsSub: RedisClient = redis.duplicate();
  for (const client of [adapterPub, adapterSub, eventsSub]) client.on('error', redisError);
  await Promise.all([adapterPub.connect(), adapterSub.connect(), eventsSub.connect()]);

  const sfu = new SfuClient({ url: config.SFU_URL, secret: config.SFU_RPC_SECRET, logger });
  const accounts = new AccountStore(redis, logger);

  const httpServer = createHealthServer('signaling', () => ({
    healthy: redis.isReady && sfu.socket.connected,
    redis: redis.isReady,
    sfu: sfu.socket.connected,
  }));

  const io: SignalingService['io'] = new Server(httpServer, {
    cors: { origin: config.WEB_ORIGINS },
    maxHttpBufferSize: MAX_MESSAGE_BYTES,
    pingInterval: config.SIGNALING_PING_INTERVAL_MS,
    pingTimeout: config.SIGNALING_PING_TIMEOUT_MS,
    adapter: createAdapter(adapterPub, adapterSub),
  });

  // Every socket must present a signaling access token minted by the web server for an
  // active account; anything else is refused before a connection exists.
  io.use((socket, next) => {
    verifyAccessToken(socket.handshake.auth?.token, { secret: config.AUTH_SECRET, audience: 'signaling' })
      .then(async (claims) => {
        const account = await accounts.get(claims.sub);
        if (!account?.active) throw new AccessTokenError('account inactive');
        socket.data.account = { accountId: account.id, displayName: account.displayName, siteId: account.siteId };
        next();
      })
      .catch((error: unknown) => {
        const message = error instanceof AccessTokenError ? error.message : 'authentication unavailable';
        if (!(error instanceof AccessTokenError)) logger.error({ err: error }, 'socket authentication failed');
        logger.warn({ address: socket.handshake.address, reason: message }, 'socket refused');
        next(Object.assign(new Error('unauthenticated'), { data: { code: 'unauthenticated', message } }));
      });
  });

  const local = new Map<string, ConferenceParticipant>();
  const deps: ConferenceDependencies = {
    accounts,
    sessions: new SessionStore(redis, logger),
    sites: new SiteStore(redis, logger),
    audit: new AuditLog(redis),
    admission: new SessionAdmission(redis, logger),
    presence: new ConferencePresence(redis, logger),
    jointRead: new JointReadStore(redis, logger),
    screenShares: new ScreenShareStore(redis, logger),
    chat: new SessionChatLog(redis, logger),
    hands: new RaisedHands(redis, logger),
    publish: (event) => publishDomainEvent(redis, event),
    sfu,
    turn: turnSettingsOf(config),
    transportPaths: new TransportPathStore(redis, logger),
    logger,
    local,
    connections: new Set(),
    resumeGraceMs: config.SIGNALING_RESUME_GRACE_MS,
    liveSocketIds: async (sessionId) =>
      new Set((await io.in(roomOf(sessionId)).fetchSockets()).map((socket) => socket.id)),
  };

  io.on('connection', (socket) => new ConferenceParticipant(socket, deps));

  // Media events from the SFU, for participants on this node. Failures (Redis away) are
  // logged; they must not become unhandled rejections.
  const logFailure = (what: string) => (error: unknown) => logger.error({ err: error }, what);
  const endCall = (participant: ConferenceParticipant) => {
    participant
      .leave('media-server-lost')
      .catch(logFailure('leave after media loss failed'))
      .finally(() => participant.drop());
  };
  sfu.socket.on('consumer:closed', ({ participantId, consumerId }) => {
    local.get(participantId)?.notifyConsumerClosed(consumerId);
  });
  sfu.socket.on('consumer:quality', ({ participantId, sessionId: _session, ...quality }) => {
    local.get(participantId)?.notifyConsumerQuality(quality);
  });
  sfu.socket.on('producer:layers-needed', ({ participantId, producerId, spatialLayer }) => {
    local.get(participantId)?.notifyLayersNeeded(producerId, spatialLayer);
  });
  sfu.socket.on('producer:closed', ({ sessionId, participantId, producerId }) => {
    deps.presence
      .removeProducer(sessionId, producerId)
      .then((removed) => {
        if (removed) io.to(roomOf(sessionId)).emit('producer:removed', { producerId, participantId });
      })
      .catch(logFailure('could not remove a closed producer'));
  });
  sfu.socket.on('speaker:active', ({ sessionId, participantId }) => {
    io.local.to(roomOf(sessionId)).emit('speaker:active', { participantId });
    deps.presence.setActiveSpeaker(sessionId, participantId).catch(logFailure('could not store the active speaker'));
  });
  sfu.socket.on('participant:closed', ({ participantId }) => {
    const participant = local.get(participantId);
    if (participant) endCall(participant);
  });
  // The SFU closes this node's media when the connection drops; the participants' calls are
  // over, so they leave (and their browsers see the disconnect) instead of hanging silently.
  sfu.socket.on('disconnect', () => {
    for (const participant of [...local.values()]) endCall(participant);
  });

  const accessWatch = new SessionAccessWatch(deps, { recheckMs: config.SESSION_RECHECK_MS });
  await accessWatch.start(eventsSub);

  await sfu.ready();
  const port = await listen(httpServer, config.SIGNALING_PORT, config.SIGNALING_HOST);
  logger.info({ port }, 'signaling listening');

  return {
    port,
    io,
    async close() {
      accessWatch.stop();
      for (const participant of [...local.values()]) await participant.leave('disconnected').catch(() => undefined);
      await io.close();
      sfu.close();
      await Promise.allSettled([redis.close(), adapterPub.close(), adapterSub.close(), eventsSub.close()]);
    },
  };
}
