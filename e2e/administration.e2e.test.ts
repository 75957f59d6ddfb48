import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { AuditLog, DEMO_SESSION_ID, connectRedis, type RedisClient } from '@telemed/domain';
import { launchThrowawayStack, type Stack } from '../stack/stack.ts';
import { joinCall, openHospitalBrowser, signIn, type HospitalBrowser } from './hospital-browser.ts';

/**
 * An administrator in a real browser: registers a site and a person, who must choose their own
 * password at first sign-in; deactivates a host in the middle of their conference, which ends it
 * for everyone in the call; and exports the audit trail.
 */
describe('administration', () => {
  let stack: Stack;
  let redis: RedisClient;
  let admin: HospitalBrowser;

  beforeAll(async () => {
    stack = await launchThrowawayStack({ sfuWorkers: 1 });
    redis = await connectRedis(stack.redisUrl, () => undefined);
    admin = await openHospitalBrowser({ label: 'kobayashi' });
    await signIn(admin.page, stack.webUrl, 'kobayashi', 'kobayashi-demo-2026');
  });

  afterAll(async () => {
    await admin?.close();
    await redis?.close();
    await stack?.stop();
  });

  it('registers a site and an account, whose owner then picks a password', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    const { page } = admin;
    await page.click('[data-testid="nav-admin"]');
    await page.click('[data-testid="admin-sites-link"]');
    await page.fill('[data-testid="site-id"]', 'minamijima');
    await page.fill('[data-testid="site-name-en"]', 'Minamijima Clinic');
    await page.selectOption('[data-testid="site-kind"]', 'clinic');
    await page.click('[data-testid="site-create"]');
    // The Japanese name was left out: said beside the field, nothing stored.
    await expect
      .poll(() => page.locator('[data-testid="site-create-form"]').textContent())
      .toContain('入力してください');
    expect(await redis.exists('site:minamijima')).toBe(0);
    await page.fill('[data-testid="site-name-ja"]', '南島診療所');
    await page.fill('[data-testid="site-region"]', '南島医療圏');
    await page.click('[data-testid="site-create"]');
    await page.waitForSelector('[data-testid="site-row-minamijima"]');

    await page.goto(`${stack.webUrl}/admin/accounts`);
    await page.fill('[data-testid="account-username"]', 'ito');
    await page.fill('[data-testid="account-display-name"]', '伊藤 美咲');
    await page.selectOption('[data-testid="account-site"]', 'minamijima');
    await page.check('[data-testid="account-role-site-doctor"]');
    await page.fill('[data-testid="account-password"]', 'first-password-123');
    await Promise.all([
      page.waitForURL(/\/admin\/accounts\/[0-9a-f-]{36}\?created=1/),
      page.click('[data-testid="account-create"]'),
    ]);

    const ito = await openHospitalBrowser({ label: 'ito' });
    try {
      await ito.page.goto(`${stack.webUrl}/login`);
      await ito.page.fill('input[name="username"]', 'ito');
      await ito.page.fill('input[name="password"]', 'first-password-123');
      await Promise.all([ito.page.waitForURL(/\/account\/password/), ito.page.click('[data-testid="sign-in"]')]);
      await ito.page.fill('[data-testid="currentPassword"]', 'first-password-123');
      await ito.page.fill('[data-testid="newPassword"]', 'my-own-password-456');
      await ito.page.fill('[data-testid="confirmPassword"]', 'my-own-password-456');
      await Promise.all([
        ito.page.waitForURL((url) => url.pathname !== '/account/password'),
        ito.page.click('[data-testid="change-password"]'),
      ]);
      await ito.page.goto(`${stack.webUrl}/sessions`);
      expect(new URL(ito.page.url()).pathname).toBe('/sessions');

      // A reset by the admin signs the person out everywhere, with a temporary password shown once.
      await page.goto(`${stack.webUrl}/admin/accounts`);
      await page.click('[data-testid="account-open-ito"]');
      await page.click('[data-testid="account-reset"]');
      await page.click('[data-testid="account-reset-confirm"]');
      expect(await page.locator('[data-testid="temporary-password"]').textContent()).toMatch(/\S{8,}/);
      await ito.page.goto(`${stack.webUrl}/sessions`);
      expect(new URL(ito.page.url()).pathname).toBe('/login');
    } finally {
      await ito.close();
    }
    const actions = (await new AuditLog(redis).recent(20)).map((entry) => entry.action);
    expect(actions).toEqual(
      expect.arrayContaining(['site.created', 'account.created', 'account.password-changed', 'account.password-reset']),
    );
  });

  it('ends the conference of a host who is deactivated, for everyone in the call', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    const sato = await openHospitalBrowser({ label: 'sato' });
    try {
      await signIn(sato.page, stack.webUrl, 'sato', 'sato-demo-2026');
      await joinCall(sato.page, stack.webUrl, DEMO_SESSION_ID);

      const { page } = admin;
      await page.goto(`${stack.webUrl}/admin/accounts`);
      await page.click('[data-testid="account-open-tanaka"]');
      expect(await page.locator('[data-testid="hosted-open-sessions"]').textContent()).toContain('離島合同症例検討会');
      await page.click('[data-testid="account-deactivate"]');
      await page.click('[data-testid="account-deactivate-confirm"]');
      await page.waitForSelector('[data-testid="account-deactivated"]');

      await sato.page.waitForSelector('main[data-session-ended]', { timeout: 15_000 });
      expect(await sato.page.locator('main').getAttribute('data-session-ended')).toBe('host-deactivated');
    } finally {
      await sato.close();
    }
  });

  it('filters the audit trail and exports it as CSV that Excel reads as UTF-8', async () => {
    const { page } = admin;
    await page.goto(`${stack.webUrl}/admin/audit`);
    await page.fill('[data-testid="audit-action"]', 'account.');
    await Promise.all([page.waitForURL(/action=account/), page.click('[data-testid="audit-search"]')]);
    await expect.poll(() => page.locator('[data-testid="audit-entry"]').count()).toBeGreaterThan(0);
    const shown = await page
      .locator('[data-testid="audit-entry"]')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-action') ?? ''));
    expect(shown.filter((action) => !action.startsWith('account.'))).toEqual([]);
    expect(shown).toContain('account.deactivated');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid="audit-export-csv"]'),
    ]);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    expect(csv).toContain('account.deactivated');
    expect(csv).not.toContain('signin.succeeded');
  });
});
