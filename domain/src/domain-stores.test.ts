import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { AccountStore } from './account-store.ts';
import { AuditLog } from './audit-log.ts';
import { DEMO_SESSION_ID, demoAccounts, demoSites, seedDemo } from './demo-seed.ts';
import { connectRedis, type RedisClient } from './redis.ts';
import { joinRefusal } from './access-policy.ts';
import { SessionStore } from './session-store.ts';
import { SigninStore } from './signin-store.ts';
import { SiteStore } from './site-store.ts';

const warnings: { details: object; message: string }[] = [];
const recorder = { warn: (details: object, message: string) => warnings.push({ details, message }) };

describe('domain stores on a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = await connectRedis(server.url, () => undefined);
  });
  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  it('seeds the demo once and never overwrites what is stored', async () => {
    await seedDemo(redis, pino({ level: 'silent' }));
    const accounts = new AccountStore(redis, recorder);
    const tanaka = await accounts.findByUsername('tanaka');
    expect(tanaka?.displayName).toBe('田中 一郎');
    await redis.set(`account:${tanaka!.id}`, JSON.stringify({ ...tanaka, displayName: '田中 一郎（改）' }));

    await seedDemo(redis, pino({ level: 'silent' }));
    expect((await accounts.findByUsername('tanaka'))?.displayName).toBe('田中 一郎（改）');
    expect(await new SiteStore(redis, recorder).list()).toHaveLength(demoSites.length);
  });

  it('authenticates with the right password only, case-insensitively on the username', async () => {
    const accounts = new AccountStore(redis, recorder);
    const [sato] = demoAccounts.filter((account) => account.username === 'sato');
    expect((await accounts.authenticate('SATO', sato!.password))?.username).toBe('sato');
    expect(await accounts.authenticate('sato', 'wrong-password')).toBeNull();
    expect(await accounts.authenticate('nobody', sato!.password)).toBeNull();
    expect(await accounts.authenticate('bad name!', 'x')).toBeNull();
  });

  it('stores passwords only as scrypt hashes', async () => {
    const stored = await redis.get(`account:${(await new AccountStore(redis, recorder).findByUsername('sato'))!.id}`);
    expect(stored).not.toContain('sato-demo-2026');
    expect(JSON.parse(stored!).passwordHash).toMatch(/^scrypt\$/);
  });

  it('refuses a second account with the same username', async () => {
    const accounts = new AccountStore(redis, recorder);
    const duplicate = await accounts.create({
      username: 'Sato',
      password: 'another-password',
      displayName: '偽',
      siteId: 'aoshima',
      roles: ['observer'],
    });
    expect(duplicate).toBeNull();
  });

  it('lets invited sites, invited accounts and the host join, and no one else', async () => {
    const accounts = new AccountStore(redis, recorder);
    const sessions = new SessionStore(redis, recorder);
    const sites = new SiteStore(redis, recorder);
    await sites.create({ id: 'yamanaka', nameJa: '山中診療所', nameEn: 'Yamanaka Clinic', kind: 'clinic', region: '' });
    const outsider = await accounts.create({
      username: 'yamada',
      password: 'yamada-password',
      displayName: '山田 太郎',
      siteId: 'yamanaka',
      roles: ['site-doctor'],
    });
    const demo = await sessions.get(DEMO_SESSION_ID);
    expect(demo).not.toBeNull();
    for (const account of demoAccounts.filter((demo) => demo.username !== 'kobayashi')) {
      expect(
        joinRefusal((await accounts.findByUsername(account.username))!, demo!, { admitted: false, removed: false }),
      ).toBeNull();
    }
    expect(joinRefusal(outsider!, demo!, { admitted: false, removed: false })).toBe('not-invited');
    expect(joinRefusal(outsider!, demo!, { admitted: true, removed: false })).toBeNull();
    expect(
      joinRefusal(outsider!, { ...demo!, invitedAccountIds: [outsider!.id] }, { admitted: false, removed: false }),
    ).toBeNull();
    const sato = (await accounts.findByUsername('sato'))!;
    expect(joinRefusal(sato, { ...demo!, status: 'cancelled' }, { admitted: false, removed: false })).toBe('not-live');
    expect(joinRefusal({ ...sato, active: false }, demo!, { admitted: false, removed: false })).toBe('inactive');
    expect(await sessions.listFor(outsider!)).toEqual([]);
    expect((await sessions.listFor((await accounts.findByUsername('suzuki'))!)).map((s) => s.id)).toEqual([
      DEMO_SESSION_ID,
    ]);
  });

  it('refuses a session that ends before it starts', async () => {
    const sessions = new SessionStore(redis, recorder);
    const host = (await new AccountStore(redis, recorder).findByUsername('tanaka'))!;
    await expect(
      sessions.create(
        {
          title: 'x',
          description: '',
          startsAt: '2026-12-01T10:00:00Z',
          endsAt: '2026-12-01T09:00:00Z',
          hostAccountId: host.id,
          invitedSiteIds: [],
          invitedAccountIds: [],
        },
        host,
      ),
    ).rejects.toThrow('the end must be after the start');
  });

  it('skips a damaged record with a warning and leaves it in Redis', async () => {
    const sessions = new SessionStore(redis, recorder);
    await redis.set('session:00000000-0000-4000-8000-000000000000', '{"title": broken');
    await redis.zAdd('sessions:by-start', { score: 0, value: '00000000-0000-4000-8000-000000000000' });
    const suzuki = (await new AccountStore(redis, recorder).findByUsername('suzuki'))!;
    expect((await sessions.listFor(suzuki)).map((s) => s.id)).toEqual([DEMO_SESSION_ID]);
    expect(warnings.some((warning) => warning.message.includes('does not parse'))).toBe(true);
    expect(await redis.get('session:00000000-0000-4000-8000-000000000000')).toBe('{"title": broken');
  });

  it('keeps sign-ins only as hashes and forgets them on sign-out', async () => {
    const signins = new SigninStore(redis, 60);
    const token = await signins.open('account-x');
    expect(await signins.accountId(token)).toBe('account-x');
    expect(await redis.keys(`*${token}*`)).toEqual([]);
    expect(await redis.ttl((await redis.keys('signin:*'))[0]!)).toBeGreaterThan(0);
    await signins.close(token);
    expect(await signins.accountId(token)).toBeNull();
    expect(await signins.accountId('../../etc/passwd')).toBeNull();

    // A password reset ends every other sign-in of the account, and only those.
    const [here, elsewhere, otherAccount] = [
      await signins.open('account-y'),
      await signins.open('account-y'),
      await signins.open('account-z'),
    ];
    expect(await signins.closeAllOf('account-y', here)).toBe(1);
    expect(await signins.accountId(here)).toBe('account-y');
    expect(await signins.accountId(elsewhere)).toBeNull();
    expect(await signins.accountId(otherAccount)).toBe('account-z');
  });

  it('appends audit entries and reads them back newest first', async () => {
    const audit = new AuditLog(redis);
    await audit.record({
      action: 'conference.joined',
      actorAccountId: 'a',
      sessionId: DEMO_SESSION_ID,
      siteId: 'aoshima',
      detail: { participantId: 'p' },
    });
    await audit.record({ action: 'conference.left', actorAccountId: 'a', sessionId: DEMO_SESSION_ID });
    const [latest, previous] = await audit.recent(2);
    expect(latest).toMatchObject({ action: 'conference.left', actorAccountId: 'a', sessionId: DEMO_SESSION_ID });
    expect(previous).toMatchObject({ action: 'conference.joined', siteId: 'aoshima', detail: { participantId: 'p' } });
    expect(Date.parse(latest!.at)).toBeGreaterThan(0);
  });
});
