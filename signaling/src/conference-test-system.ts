import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';
import {
  unwrapAck,
  type Ack,
  type ConferenceClientEvents,
  type ConferenceNotifications,
  type ConferenceRequest,
  type ConferenceRequestName,
  type ConferenceResponses,
  type RtpCapabilities,
  type RtpParameters,
} from '@telemed/contract';
import { mintAccessToken } from '@telemed/contract/access-token';
import {
  AccountStore,
  AuditLog,
  DEMO_SESSION_ID,
  SessionStore,
  SiteStore,
  connectRedis,
  seedDemo,
  type RedisClient,
  type Session,
  type StoredAuditEntry,
} from '@telemed/domain';
import { readSfuConfig } from '../../sfu/src/config.ts';
import { startSfuService, type SfuService } from '../../sfu/src/sfu-service.ts';
import { freeMediaPorts } from '../../stack/free-port.ts';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { readSignalingConfig } from './config.ts';
import { startSignalingService, type SignalingService } from './signaling-service.ts';

/**
 * Real Redis, a real SFU (mediasoup) and one or more signaling nodes, started in this process
 * on free ports, with the demo data seeded — for integration tests of signaling.
 */

export const AUTH_SECRET = 'integration-test-auth-secret-0123456789';
const SFU_RPC_SECRET = 'integration-test-sfu-secret-0123456789';

export type ConferenceClient = Socket<ConferenceNotifications, ConferenceClientEvents>;

export interface ConferenceTestSystem {
  redis: RedisClient;
  sfu: SfuService;
  nodes: SignalingService[];
  accounts: AccountStore;
  sessions: SessionStore;
  sites: SiteStore;
  /**
   * Schedules a session hosted by `host` (default tanaka) from `startsInMs` to `endsInMs`
   * around now (double bookings allowed).
   */
  schedule(options: {
    startsInMs: number;
    endsInMs: number;
    host?: string;
    invitedSiteIds?: string[];
    invitedUsernames?: string[];
  }): Promise<Session>;
  /** The account's id (failing the test when there is no such account). */
  accountId(username: string): Promise<string>;
  /** The newest audit entries first. */
  recentAudit(count?: number): Promise<StoredAuditEntry[]>;
  /** A signed-in client socket for the account, on the given signaling node. */
  connect(username: string, options?: { node?: number; token?: string | null }): Promise<ConferenceClient>;
  tokenFor(username: string, audience?: 'signaling' | 'dicom-proxy'): Promise<string>;
  close(): Promise<void>;
}

const quiet = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export async function startConferenceTestSystem(
  options: {
    signalingNodes?: number;
    recheckMs?: number;
    turn?: { urls: string[]; secret: string };
    resumeGraceMs?: number;
  } = {},
): Promise<ConferenceTestSystem> {
  const redisServer: PrivateRedis = await startTestRedis();
  const redis = await connectRedis(redisServer.url, () => undefined);
  await seedDemo(redis, quiet);
  const accounts = new AccountStore(redis, quiet);
  const sessions = new SessionStore(redis, quiet);

  const sfu = await startSfuService(
    readSfuConfig({
      SFU_RPC_PORT: '0',
      SFU_RPC_SECRET,
      SFU_WORKERS: '1',
      SFU_RTC_PORT: String(await freeMediaPorts(1)),
      SFU_LISTEN_IP: '127.0.0.1',
      SFU_ROUTER_IDLE_MS: '200',
    }),
    quiet,
  );
  const nodes: SignalingService[] = [];
  for (let index = 0; index < (options.signalingNodes ?? 1); index++) {
    nodes.push(
      await startSignalingService(
        readSignalingConfig({
          SIGNALING_HOST: '127.0.0.1',
          SIGNALING_PORT: '0',
          REDIS_URL: redisServer.url,
          AUTH_SECRET,
          SFU_URL: `http://127.0.0.1:${sfu.rpcPort}`,
          SFU_RPC_SECRET,
          ...(options.recheckMs ? { SESSION_RECHECK_MS: String(options.recheckMs) } : {}),
          ...(options.turn ? { TURN_URLS: options.turn.urls.join(','), TURN_SECRET: options.turn.secret } : {}),
          ...(options.resumeGraceMs ? { SIGNALING_RESUME_GRACE_MS: String(options.resumeGraceMs) } : {}),
        }),
        quiet,
      ),
    );
  }
  const clients: ConferenceClient[] = [];

  const tokenFor = async (username: string, audience: 'signaling' | 'dicom-proxy' = 'signaling') => {
    const account = await accounts.findByUsername(username);
    if (!account) throw new Error(`no account ${username}`);
    const claims = { sub: account.id, name: account.displayName, siteId: account.siteId, roles: account.roles };
    // A DICOM-proxy token always carries an imaging grant (here an empty one).
    const imaging =
      audience === 'dicom-proxy'
        ? { imaging: { sessionId: DEMO_SESSION_ID, studies: [], mayQuerySources: false } }
        : {};
    return mintAccessToken({ ...claims, ...imaging }, { secret: AUTH_SECRET, audience, ttlSeconds: 60 });
  };

  const accountId = async (username: string) => {
    const account = await accounts.findByUsername(username);
    if (!account) throw new Error(`no account ${username}`);
    return account.id;
  };

  return {
    redis,
    sfu,
    nodes,
    accounts,
    sessions,
    sites: new SiteStore(redis, quiet),
    tokenFor,
    accountId,
    async schedule({ startsInMs, endsInMs, host = 'tanaka', invitedSiteIds = [], invitedUsernames = [] }) {
      const now = Date.now();
      const { session } = await sessions.create(
        {
          title: 'テスト症例検討会',
          startsAt: new Date(now + startsInMs).toISOString(),
          endsAt: new Date(now + endsInMs).toISOString(),
          invitedSiteIds,
          invitedAccountIds: await Promise.all(invitedUsernames.map(accountId)),
          allowDoubleBooking: true,
        },
        { id: await accountId(host) },
      );
      return session;
    },
    recentAudit: (count = 20) => new AuditLog(redis).recent(count),
    async connect(username, connectOptions = {}) {
      const token = connectOptions.token === undefined ? await tokenFor(username) : connectOptions.token;
      const node = nodes[connectOptions.node ?? 0]!;
      const client: ConferenceClient = io(`http://127.0.0.1:${node.port}`, {
        transports: ['websocket'],
        reconnection: false,
        auth: token === null ? {} : { token },
      });
      clients.push(client);
      await new Promise<void>((resolve, reject) => {
        client.once('connect', resolve);
        client.once('connect_error', reject);
      });
      return client;
    },
    async close() {
      for (const client of clients) client.close();
      for (const node of nodes) await node.close();
      await sfu.close();
      await redis.close();
      await redisServer.stop();
    },
  };
}

/**
 * Cuts the client's connection without a goodbye, as a dead link does: signaling sees the
 * transport close (not a disconnect the client asked for).
 */
export function cutConnection(client: ConferenceClient): void {
  client.io.engine.close();
}

/** Sends a request and returns the raw ack (for tests that expect failures). */
export async function send<N extends ConferenceRequestName>(
  client: ConferenceClient,
  name: N,
  payload: ConferenceRequest<N>,
): Promise<Ack<ConferenceResponses[N]>> {
  const timed = client.timeout(10_000);
  const emit = timed.emitWithAck as (event: N, payload: ConferenceRequest<N>) => Promise<Ack<ConferenceResponses[N]>>;
  return emit.call(timed, name, payload);
}

/** Sends a request and returns its data (failing the test on an error ack). */
export async function request<N extends ConferenceRequestName>(
  client: ConferenceClient,
  name: N,
  payload: ConferenceRequest<N>,
): Promise<ConferenceResponses[N]> {
  return unwrapAck(await send(client, name, payload));
}

/** Resolves with the next event of that name. */
export function nextEvent<E extends keyof ConferenceNotifications>(
  client: ConferenceClient,
  event: E,
): Promise<Parameters<ConferenceNotifications[E]>[0]> {
  return new Promise((resolve) => {
    const listener = ((payload: Parameters<ConferenceNotifications[E]>[0]) => resolve(payload)) as never;
    client.once(event, listener);
  });
}

/** Joins a session the way the web client does (without real media). */
export async function joinSession(
  client: ConferenceClient,
  sessionId: string,
): Promise<ConferenceResponses['session:join']> {
  const { routerRtpCapabilities } = await request(client, 'session:capabilities', { sessionId });
  return request(client, 'session:join', { sessionId, rtpCapabilities: routerRtpCapabilities as RtpCapabilities });
}

/**
 * Leaves the session (if in one) and disconnects: unlike a bare close, the leave's notifications
 * are sent before this resolves, so the system can be stopped right after.
 */
export async function hangUp(...clients: ConferenceClient[]): Promise<void> {
  for (const client of clients) {
    if (client.connected) await send(client, 'session:leave', {});
    client.close();
  }
}

/** Joins the demo session the way the web client does (without real media). */
export function joinDemo(client: ConferenceClient): Promise<ConferenceResponses['session:join']> {
  return joinSession(client, DEMO_SESSION_ID);
}

/** A camera (or screen) as the browser sends it: VP8, three simulcast streams by SSRC. */
export const vp8Simulcast = (firstSsrc: number): RtpParameters => ({
  mid: '1',
  codecs: [
    {
      mimeType: 'video/VP8',
      payloadType: 96,
      clockRate: 90000,
      rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
    },
  ],
  encodings: [0, 1, 2].map((index) => ({ ssrc: firstSsrc + index, scalabilityMode: 'L1T3' })),
  rtcp: { cname: `cname-${firstSsrc}`, reducedSize: true },
});

/** Sends a browser's camera (VP8, three simulcast streams from `firstSsrc`) on a send transport. */
export function produceCamera(
  who: { client: ConferenceClient; transportId: string },
  firstSsrc: number,
): Promise<ConferenceResponses['producer:create']> {
  return request(who.client, 'producer:create', {
    transportId: who.transportId,
    kind: 'video',
    source: 'camera',
    rtpParameters: vp8Simulcast(firstSsrc),
  });
}
