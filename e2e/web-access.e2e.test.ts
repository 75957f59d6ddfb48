import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore, AuditLog, DEMO_SESSION_ID, SiteStore, connectRedis, type RedisClient } from '@telemed/domain';
import { launchThrowawayStack, type Stack } from '../stack/stack.ts';
import { openHospitalBrowser, signIn, type HospitalBrowser } from './hospital-browser.ts';

/** Sign-in, access control and the page-level security of the web client, in a real browser. */
describe('web client access', () => {
  let stack: Stack;
  let redis: RedisClient;
  let site: HospitalBrowser;

  beforeAll(async () => {
    stack = await launchThrowawayStack({ sfuWorkers: 1 });
    redis = await connectRedis(stack.redisUrl, () => undefined);
    const quiet = pino({ level: 'silent' });
    await new SiteStore(redis, quiet).create({
      id: 'yamanaka',
      nameJa: '山中診療所',
      nameEn: 'Yamanaka Clinic',
      kind: 'clinic',
      region: '',
    });
    await new AccountStore(redis, quiet).create({
      username: 'yamada',
      password: 'yamada-password-1',
      displayName: '山田 太郎',
      siteId: 'yamanaka',
      roles: ['site-doctor'],
    });
    site = await openHospitalBrowser({ label: 'sato' });
  });

  afterAll(async () => {
    await site?.close();
    await redis?.close();
    await stack?.stop();
  });

  it('sends visitors who are not signed in to the sign-in page, and back afterwards', async () => {
    const { page } = site;
    await page.goto(`${stack.webUrl}/sessions/${DEMO_SESSION_ID}`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(await page.locator('html').getAttribute('lang')).toBe('ja');
    await page.fill('input[name="username"]', 'sato');
    await page.fill('input[name="password"]', 'wrong');
    await page.click('[data-testid="sign-in"]');
    await expect.poll(() => page.locator('[role="alert"]').textContent()).toContain('正しくありません');

    await page.fill('input[name="password"]', 'sato-demo-2026');
    await Promise.all([
      page.waitForURL(`${stack.webUrl}/sessions/${DEMO_SESSION_ID}`),
      page.click('[data-testid="sign-in"]'),
    ]);
    await page.waitForSelector('[data-testid="join"]');
    const audit = (await new AuditLog(redis).recent(5)).map((entry) => entry.action);
    expect(audit).toEqual(expect.arrayContaining(['signin.failed', 'signin.succeeded']));
  });

  it('lists the sessions of the account, in Japan time, and switches to English', async () => {
    const { page } = site;
    await page.goto(`${stack.webUrl}/sessions`);
    const item = page.locator('li.session');
    await expect.poll(() => item.count()).toBe(1);
    expect(await item.textContent()).toContain('離島合同症例検討会（デモ）');
    expect(await item.textContent()).toContain('(JST)');
    expect(await item.textContent()).toContain('南海大学病院・青島町立病院・黒潮島診療所');

    await page.click('button[lang="en"]');
    await page.waitForSelector('html[lang="en"]');
    expect(await page.locator('h1').textContent()).toBe('My sessions');
    expect(await item.textContent()).toContain('Nankai University Hospital');
    await page.click('button[lang="ja"]');
    await page.waitForSelector('html[lang="ja"]');
  });

  it('refuses a session to an account that is not invited, and audits it', async () => {
    const outsider = await openHospitalBrowser({ label: 'yamada' });
    try {
      await signIn(outsider.page, stack.webUrl, 'yamada', 'yamada-password-1');
      expect(await outsider.page.locator('li.session').count()).toBe(0);
      const response = await outsider.page.goto(`${stack.webUrl}/sessions/${DEMO_SESSION_ID}`);
      expect(response?.status()).toBe(403);
      expect(await outsider.page.locator('main').textContent()).toContain('参加する権限がありません');
      const unknown = await outsider.page.goto(`${stack.webUrl}/sessions/not-a-session-id`);
      expect(unknown?.status()).toBe(403);
      const denied = (await new AuditLog(redis).recent(5)).filter((entry) => entry.action === 'conference.denied');
      expect(denied.length).toBeGreaterThanOrEqual(2);
    } finally {
      await outsider.close();
    }
  });

  it('gives signaling tokens only to signed-in browsers and never lets pages be framed', async () => {
    const anonymous = await fetch(`${stack.webUrl}/api/signaling-token`);
    expect(anonymous.status).toBe(401);
    const page = await fetch(`${stack.webUrl}/login`);
    const policies = page.headers.get('content-security-policy') ?? '';
    expect(policies).toContain("frame-ancestors 'none'");
    expect(policies).toContain(`connect-src 'self' http://localhost:${stack.ports.signaling}`);

    const token = await site.page.evaluate(async () => {
      const response = await fetch('/api/signaling-token');
      return { status: response.status, cache: response.headers.get('cache-control'), body: await response.json() };
    });
    expect(token).toMatchObject({ status: 200, cache: 'no-store' });
    expect(token.body.token.split('.')).toHaveLength(3);
  });

  it('signs out, and the old cookie no longer opens anything', async () => {
    const { page } = site;
    await page.goto(`${stack.webUrl}/sessions`);
    const cookies = await page.context().cookies();
    await Promise.all([page.waitForURL(`${stack.webUrl}/login`), page.click('form[action="/logout"] button')]);
    const signin = cookies.find((cookie) => cookie.name === 'telemed_signin');
    expect(signin?.httpOnly).toBe(true);
    const replay = await fetch(`${stack.webUrl}/api/signaling-token`, {
      headers: { cookie: `telemed_signin=${signin!.value}` },
    });
    expect(replay.status).toBe(401);
  });
});
