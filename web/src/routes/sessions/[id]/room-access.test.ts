import { randomUUID } from 'node:crypto';
import { isHttpError, isRedirect } from '@sveltejs/kit';
import {
  AccountStore,
  AuditLog,
  DEMO_SESSION_ID,
  SessionAdmission,
  SessionStore,
  SiteStore,
  seedDemo,
  type Account,
} from '@telemed/domain';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../../../../stack/private-redis.ts';
import { webDomain } from '#lib/server/domain.ts';
import { signedIn } from '#lib/server/signin.ts';
import { load as loadLobby } from './lobby/+page.server.ts';
import { load as loadRoom } from './+page.server.ts';

/**
 * The room page and the waiting-room page against a real Redis, called the way SvelteKit calls
 * their loads: who gets in, what the 403 says (and does not say), and what is audited.
 */

const quiet = pino({ level: 'silent' });
const HOUR = 3600_000;

describe('room page access', () => {
  let server: PrivateRedis;
  let accounts: AccountStore;
  let sessions: SessionStore;
  let audit: AuditLog;
  let admission: SessionAdmission;
  let tanaka: Account;
  let sato: Account;
  let yamada: Account;
  let ito: Account;

  beforeAll(async () => {
    server = await startTestRedis();
    process.env.REDIS_URL = server.url;
    process.env.AUTH_SECRET ??= 'room-access-test-secret-0123456789abcdef';
    const { redis } = await webDomain();
    await seedDemo(redis, quiet);
    accounts = new AccountStore(redis, quiet);
    sessions = new SessionStore(redis, quiet);
    audit = new AuditLog(redis);
    admission = new SessionAdmission(redis, quiet);
    await new SiteStore(redis, quiet).create({
      id: 'yamanaka',
      nameJa: '山中診療所',
      nameEn: 'Yamanaka Clinic',
      kind: 'clinic',
    });
    tanaka = (await accounts.findByUsername('tanaka'))!;
    sato = (await accounts.findByUsername('sato'))!;
    yamada = (await accounts.create({
      username: 'yamada',
      password: 'yamada-password',
      displayName: '山田 太郎',
      siteId: 'yamanaka',
      roles: ['site-doctor'],
    }))!;
    ito = (await accounts.create({
      username: 'ito',
      password: 'ito-password-1',
      displayName: '伊藤 学',
      siteId: 'aoshima',
      roles: ['observer'],
    }))!;
  });
  afterAll(async () => {
    await (await webDomain()).redis.close();
    await server?.stop();
  });

  const event = (account: Account, id: string, path = `/sessions/${id}`) =>
    ({
      locals: { account: signedIn(account), language: 'ja' },
      params: { id },
      url: new URL(`http://localhost:3000${path}`),
      getClientAddress: () => '203.0.113.7',
    }) as never;

  /** The load's outcome: its data, or the status and body of what it threw. */
  async function open(load: typeof loadRoom | typeof loadLobby, account: Account, id: string) {
    try {
      return { data: await load(event(account, id)) };
    } catch (thrown) {
      if (isHttpError(thrown)) {
        const { status: _status, ...body } = thrown.body;
        return { status: thrown.status, body };
      }
      if (isRedirect(thrown)) return { status: thrown.status, location: thrown.location };
      throw thrown;
    }
  }

  const schedule = async (startsInMs: number, endsInMs: number) =>
    (
      await sessions.create(
        {
          title: '山中 合同読影',
          startsAt: new Date(Date.now() + startsInMs).toISOString(),
          endsAt: new Date(Date.now() + endsInMs).toISOString(),
          invitedSiteIds: ['aoshima'],
          allowDoubleBooking: true,
        },
        tanaka,
      )
    ).session;

  it('opens a live session to the host and the invited, and tells the page who may do what', async () => {
    expect(await open(loadRoom, tanaka, DEMO_SESSION_ID)).toMatchObject({
      data: { session: { id: DEMO_SESSION_ID }, mayProduceMedia: true, isHost: true },
    });
    expect(await open(loadRoom, sato, DEMO_SESSION_ID)).toMatchObject({
      data: { mayProduceMedia: true, isHost: false },
    });
    expect(await open(loadRoom, ito, DEMO_SESSION_ID)).toMatchObject({ data: { mayProduceMedia: false } });
  });

  it('gives the uninvited and unknown ids one 403 with the way to the waiting room, and audits both', async () => {
    const session = await schedule(-HOUR, HOUR);
    const refused = await open(loadRoom, yamada, session.id);
    expect(refused).toEqual({
      status: 403,
      body: { message: 'forbidden', code: 'forbidden', lobbyPath: `/sessions/${session.id}/lobby` },
    });
    const unknownId = randomUUID();
    expect(await open(loadRoom, yamada, unknownId)).toEqual({
      status: 403,
      body: { message: 'forbidden', code: 'forbidden', lobbyPath: `/sessions/${unknownId}/lobby` },
    });
    // A session that is not live yet says nothing more to the uninvited.
    const later = await schedule(3 * HOUR, 4 * HOUR);
    expect((await open(loadRoom, yamada, later.id)).body).toEqual({
      message: 'forbidden',
      code: 'forbidden',
      lobbyPath: `/sessions/${later.id}/lobby`,
    });
    expect(await open(loadRoom, yamada, 'not-a-session-id')).toEqual({
      status: 403,
      body: { message: 'forbidden', code: 'forbidden' },
    });

    const denied = (await audit.recent(10)).filter(
      (entry) => entry.action === 'conference.denied' && entry.actorAccountId === yamada.id,
    );
    expect(denied.map((entry) => [entry.target, entry.outcome, entry.detail?.reason])).toEqual([
      [undefined, 'denied', 'unknown-session'],
      [`session:${later.id}`, 'denied', 'not-live'],
      [`session:${unknownId}`, 'denied', 'unknown-session'],
      [`session:${session.id}`, 'denied', 'not-invited'],
    ]);
    expect(denied[3]).toMatchObject({ siteId: 'yamanaka', ip: '203.0.113.7', sessionId: session.id });
  });

  it('lets an admitted guest in', async () => {
    const session = await schedule(-HOUR, HOUR);
    await admission.knock(session, {
      accountId: yamada.id,
      displayName: yamada.displayName,
      siteId: 'yamanaka',
      siteNameJa: '山中診療所',
      siteNameEn: 'Yamanaka Clinic',
    });
    expect((await open(loadRoom, yamada, session.id)).status).toBe(403);
    await admission.admit(session, yamada.id);
    expect(await open(loadRoom, yamada, session.id)).toMatchObject({ data: { isHost: false } });
  });

  it('tells the invited when the room opens, or that the session is over', async () => {
    const later = await schedule(2 * HOUR, 3 * HOUR);
    expect(await open(loadRoom, sato, later.id)).toEqual({
      status: 403,
      body: {
        message: 'the room opens 15 minutes before the start',
        code: 'not-live',
        schedule: {
          startsAt: later.startsAt,
          endsAt: later.endsAt,
          opensAt: new Date(Date.parse(later.startsAt) - 15 * 60_000).toISOString(),
          phase: 'scheduled',
        },
      },
    });
    const cancelled = await schedule(-HOUR, HOUR);
    await sessions.cancel(cancelled.id);
    expect(await open(loadRoom, sato, cancelled.id)).toMatchObject({
      status: 403,
      body: { code: 'not-live', schedule: { phase: 'cancelled' } },
    });
    const over = await schedule(-3 * HOUR, -HOUR);
    expect(await open(loadRoom, sato, over.id)).toMatchObject({
      status: 403,
      body: { code: 'not-live', schedule: { phase: 'ended' } },
    });
    // The room opens 15 minutes before the start.
    const soon = await schedule(10 * 60_000, HOUR);
    expect(await open(loadRoom, sato, soon.id)).toMatchObject({ data: { session: { id: soon.id } } });
  });

  it('shows the waiting page without a word about the session, and sends the invited to the room', async () => {
    const session = await schedule(-HOUR, HOUR);
    const waiting = await open(loadLobby, yamada, session.id);
    expect(waiting).toEqual({ data: { sessionId: session.id, signalingUrl: 'http://localhost:3001' } });
    expect(await open(loadLobby, yamada, randomUUID())).toHaveProperty('data');
    expect(await open(loadLobby, sato, session.id)).toEqual({ status: 303, location: `/sessions/${session.id}` });
    expect(await open(loadLobby, yamada, 'not-a-session-id')).toMatchObject({ status: 403 });
  });
});
