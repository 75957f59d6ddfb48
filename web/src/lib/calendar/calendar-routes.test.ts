import { isHttpError } from '@sveltejs/kit';
import {
  AccountStore,
  AuditLog,
  DEMO_SESSION_ID,
  SessionStore,
  SiteStore,
  connectRedis,
  seedDemo,
  sessionCalendarUid,
  type Account,
  type RedisClient,
} from '@telemed/domain';
import ICAL from 'ical.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../../../stack/private-redis.ts';
import { webDomain } from '../server/domain.ts';
import { signedIn } from '../server/signin.ts';

/**
 * The calendar routes against a real Redis, called the way SvelteKit calls them (the handlers
 * only read `locals`, `params`, `url` and `getClientAddress`).
 */

type Handler = (event: never) => unknown;
const origin = 'https://telemed.example.jp';

function event(path: string, params: Record<string, string>, account: Account | null) {
  return {
    locals: { account: account && signedIn(account), language: 'ja' },
    params,
    url: new URL(path, origin),
    getClientAddress: () => '192.0.2.10',
  } as never;
}

/** The handler's Response, or the status of the HTTP error it threw. */
async function call(handler: Handler, request: never): Promise<Response | number> {
  try {
    return (await handler(request)) as Response;
  } catch (thrown) {
    if (isHttpError(thrown)) return thrown.status;
    throw thrown;
  }
}

const uids = (text: string) =>
  new ICAL.Component(ICAL.parse(text))
    .getAllSubcomponents('vevent')
    .map((vevent) => ({ uid: vevent.getFirstPropertyValue('uid'), status: vevent.getFirstPropertyValue('status') }));

describe('calendar routes', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let sato: Account;
  let outsider: Account;
  let sessionExport: Handler;
  let feed: Handler;
  let page: { actions: Record<'issue' | 'revoke', Handler>; load: Handler };

  const latestAudit = () => new AuditLog(redis).recent(1);

  beforeAll(async () => {
    server = await startTestRedis();
    process.env.REDIS_URL = server.url;
    process.env.AUTH_SECRET ??= 'calendar-route-test-secret-0123456789abcdef';
    redis = await connectRedis(server.url, () => undefined);
    await seedDemo(redis, pino({ level: 'silent' }));
    const accounts = new AccountStore(redis, pino({ level: 'silent' }));
    sato = (await accounts.findByUsername('sato'))!;
    await new SiteStore(redis, pino({ level: 'silent' })).create({
      id: 'calendar-elsewhere',
      nameJa: '別の病院',
      nameEn: 'Elsewhere Hospital',
      kind: 'hospital',
    });
    outsider = (await accounts.create({
      username: 'calendar-outsider',
      password: 'calendar-outsider-password-2026',
      displayName: '外部 太郎',
      siteId: 'calendar-elsewhere',
      roles: ['site-doctor'],
    }))!;
    sessionExport = (await import('../../routes/sessions/[id]/calendar.ics/+server.ts')).GET as Handler;
    feed = (await import('../../routes/calendar/[token].ics/+server.ts')).GET as Handler;
    page = (await import('../../routes/account/calendar/+page.server.ts')) as unknown as typeof page;
  });
  afterAll(async () => {
    await (await webDomain()).redis.close();
    await redis?.close();
    await server?.stop();
  });

  it('exports a session the account may see, as an attachment, and audits it', async () => {
    const path = `/sessions/${DEMO_SESSION_ID}/calendar.ics`;
    const response = await call(sessionExport, event(path, { id: DEMO_SESSION_ID }, sato));
    if (typeof response === 'number') throw new Error(`status ${response}`);
    expect(response.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="session-${DEMO_SESSION_ID}.ics"`);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const text = await response.text();
    expect(uids(text)).toEqual([{ uid: sessionCalendarUid(DEMO_SESSION_ID), status: 'CONFIRMED' }]);
    const vevent = new ICAL.Component(ICAL.parse(text)).getFirstSubcomponent('vevent')!;
    expect(vevent.getFirstPropertyValue('url')).toBe(`${origin}/sessions/${DEMO_SESSION_ID}`);
    expect((await latestAudit())[0]).toMatchObject({
      action: 'calendar.exported',
      outcome: 'success',
      target: `session:${DEMO_SESSION_ID}`,
    });
  });

  it('answers 401 without a sign-in, and 403 alike for other sessions and unknown ids', async () => {
    const path = `/sessions/${DEMO_SESSION_ID}/calendar.ics`;
    expect(await call(sessionExport, event(path, { id: DEMO_SESSION_ID }, null))).toBe(401);
    expect(await call(sessionExport, event(path, { id: DEMO_SESSION_ID }, outsider))).toBe(403);
    expect((await latestAudit())[0]).toMatchObject({ action: 'calendar.exported', outcome: 'denied' });
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(await call(sessionExport, event(`/sessions/${unknown}/calendar.ics`, { id: unknown }, sato))).toBe(403);
    expect(await call(sessionExport, event('/sessions/nonsense/calendar.ics', { id: 'nonsense' }, sato))).toBe(403);
  });

  it('issues a feed URL that opens the account’s sessions without cookies, cancelled ones included', async () => {
    const issued = (await page.actions.issue(event('/account/calendar?/issue', {}, sato)))! as { feedUrl: string };
    expect(issued.feedUrl).toMatch(new RegExp(`^${origin}/calendar/[A-Za-z0-9_-]{43}\\.ics$`));
    expect((await latestAudit())[0]).toMatchObject({ action: 'calendar-feed.issued', target: `account:${sato.id}` });
    expect(await page.load(event('/account/calendar', {}, sato))).toMatchObject({
      feed: { issuedAt: expect.any(String) },
    });

    const sessions = new SessionStore(redis, pino({ level: 'silent' }));
    const host = (await new AccountStore(redis, pino({ level: 'silent' })).findByUsername('tanaka'))!;
    const start = Date.now() + 30 * 86_400_000;
    const { session } = await sessions.create(
      {
        title: '中止になる検討会',
        startsAt: new Date(start).toISOString(),
        endsAt: new Date(start + 3600_000).toISOString(),
        invitedSiteIds: ['aoshima'],
      },
      host,
    );
    await sessions.cancel(session.id);

    const token = issued.feedUrl.split('/calendar/')[1]!.replace(/\.ics$/, '');
    const response = await call(feed, event(`/calendar/${token}.ics`, { token }, null));
    if (typeof response === 'number') throw new Error(`status ${response}`);
    expect(response.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(uids(await response.text())).toEqual(
      expect.arrayContaining([
        { uid: sessionCalendarUid(DEMO_SESSION_ID), status: 'CONFIRMED' },
        { uid: sessionCalendarUid(session.id), status: 'CANCELLED' },
      ]),
    );
  });

  it('stops the old feed URL on renewal and on revocation; unknown tokens get 404', async () => {
    const first = (await page.actions.issue(event('/account/calendar?/issue', {}, sato))) as { feedUrl: string };
    const second = (await page.actions.issue(event('/account/calendar?/issue', {}, sato))) as { feedUrl: string };
    expect((await latestAudit())[0]).toMatchObject({ action: 'calendar-feed.renewed' });
    const tokenOf = (url: string) => url.split('/calendar/')[1]!.replace(/\.ics$/, '');
    const fetchFeed = (token: string) => call(feed, event(`/calendar/${token}.ics`, { token }, null));

    expect(await fetchFeed(tokenOf(first.feedUrl))).toBe(404);
    expect(await fetchFeed(tokenOf(second.feedUrl))).toBeInstanceOf(Response);
    expect(await fetchFeed('not-a-token')).toBe(404);

    await page.actions.revoke(event('/account/calendar?/revoke', {}, sato));
    expect((await latestAudit())[0]).toMatchObject({ action: 'calendar-feed.revoked' });
    expect(await fetchFeed(tokenOf(second.feedUrl))).toBe(404);
    expect(await page.load(event('/account/calendar', {}, sato))).toEqual({ feed: null });
  });

  it('answers 404 for the feed of a deactivated account', async () => {
    const issued = (await page.actions.issue(event('/account/calendar?/issue', {}, outsider))) as { feedUrl: string };
    const token = issued.feedUrl.split('/calendar/')[1]!.replace(/\.ics$/, '');
    expect(await call(feed, event(`/calendar/${token}.ics`, { token }, null))).toBeInstanceOf(Response);
    const stored = JSON.parse((await redis.get(`account:${outsider.id}`))!) as Account;
    await redis.set(`account:${outsider.id}`, JSON.stringify({ ...stored, active: false }));
    expect(await call(feed, event(`/calendar/${token}.ics`, { token }, null))).toBe(404);
  });
});
