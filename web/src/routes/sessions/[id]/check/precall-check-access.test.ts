import { randomUUID } from 'node:crypto';
import { isHttpError, isRedirect } from '@sveltejs/kit';
import { AccountStore, DEMO_SESSION_ID, SessionStore, SiteStore, seedDemo, type Account } from '@telemed/domain';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../../../../../stack/private-redis.ts';
import { webDomain } from '#lib/server/domain.ts';
import { signedIn } from '#lib/server/signin.ts';
import { load as loadCheckAlone } from '../../../check/+page.server.ts';
import { load as loadSessionCheck } from './+page.server.ts';

/**
 * The pre-call check pages against a real Redis, called the way SvelteKit calls their loads:
 * signed-in accounts only, and a session's title only for those invited to it.
 */

const quiet = pino({ level: 'silent' });

describe('pre-call check page access', () => {
  let server: PrivateRedis;
  let tanaka: Account;
  let sato: Account;
  let kobayashi: Account;
  let yamada: Account;
  let laterSessionId: string;

  beforeAll(async () => {
    server = await startTestRedis();
    process.env.REDIS_URL = server.url;
    process.env.AUTH_SECRET ??= 'precall-check-test-secret-0123456789abcdef';
    const { redis } = await webDomain();
    await seedDemo(redis, quiet);
    const accounts = new AccountStore(redis, quiet);
    tanaka = (await accounts.findByUsername('tanaka'))!;
    sato = (await accounts.findByUsername('sato'))!;
    kobayashi = (await accounts.findByUsername('kobayashi'))!;
    await new SiteStore(redis, quiet).create({
      id: 'yamanaka',
      nameJa: '山中診療所',
      nameEn: 'Yamanaka Clinic',
      kind: 'clinic',
    });
    yamada = (await accounts.create({
      username: 'yamada',
      password: 'yamada-password',
      displayName: '山田 太郎',
      siteId: 'yamanaka',
      roles: ['site-doctor'],
    }))!;
    const { session } = await new SessionStore(redis, quiet).create(
      {
        title: '来週の合同読影',
        startsAt: new Date(Date.now() + 7 * 24 * 3600_000).toISOString(),
        endsAt: new Date(Date.now() + 7 * 24 * 3600_000 + 3600_000).toISOString(),
        invitedSiteIds: ['aoshima'],
        allowDoubleBooking: true,
      },
      tanaka,
    );
    laterSessionId = session.id;
  });
  afterAll(async () => {
    await (await webDomain()).redis.close();
    await server?.stop();
  });

  const event = (account: Account | null, path: string, id?: string) =>
    ({
      locals: { account: account ? signedIn(account) : null, language: 'ja' },
      params: id === undefined ? {} : { id },
      url: new URL(`http://localhost:3000${path}`),
    }) as never;

  async function open(load: () => unknown) {
    try {
      return { data: await load() };
    } catch (thrown) {
      if (isHttpError(thrown)) return { status: thrown.status };
      if (isRedirect(thrown)) return { status: thrown.status, location: thrown.location };
      throw thrown;
    }
  }
  const sessionCheck = (account: Account | null, id: string) =>
    open(() => loadSessionCheck(event(account, `/sessions/${id}/check`, id)));

  it('sends the signed-out to sign in first, and back here afterwards', async () => {
    expect(await open(() => loadCheckAlone(event(null, '/check')))).toEqual({
      status: 303,
      location: '/login?next=%2Fcheck',
    });
    expect(await sessionCheck(null, DEMO_SESSION_ID)).toEqual({
      status: 303,
      location: `/login?next=${encodeURIComponent(`/sessions/${DEMO_SESSION_ID}/check`)}`,
    });
  });

  it('checks without a session for any signed-in account, with signaling’s address', async () => {
    expect(await open(() => loadCheckAlone(event(kobayashi, '/check')))).toEqual({
      data: { signalingUrl: 'http://localhost:3001' },
    });
  });

  it('names the session for the invited, also before its room opens', async () => {
    expect(await sessionCheck(sato, DEMO_SESSION_ID)).toMatchObject({
      data: { session: { id: DEMO_SESSION_ID, title: '離島合同症例検討会（デモ）', startsAt: expect.any(String) } },
    });
    expect(await sessionCheck(sato, laterSessionId)).toMatchObject({
      data: { session: { id: laterSessionId, title: '来週の合同読影' } },
    });
  });

  it('tells the uninvited nothing about the session, the same for an unknown id', async () => {
    const withheld = (id: string) => ({
      data: { signalingUrl: 'http://localhost:3001', session: { id, title: null, startsAt: null, endsAt: null } },
    });
    expect(await sessionCheck(yamada, DEMO_SESSION_ID)).toEqual(withheld(DEMO_SESSION_ID));
    const unknown = randomUUID();
    expect(await sessionCheck(yamada, unknown)).toEqual(withheld(unknown));
    expect(await sessionCheck(sato, 'not-a-session-id')).toEqual({ status: 403 });
  });
});
