import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { AuditLog, connectRedis, type RedisClient } from '@telemed/domain';
import { launchThrowawayStack, type Stack } from '../stack/stack.ts';
import { openHospitalBrowser, type HospitalBrowser } from './hospital-browser.ts';

/**
 * Sign-in protection in a real browser, with the second factor required for coordinators and
 * admins (TOTP_REQUIRED_FOR_PRIVILEGED): enrolment is forced, the code is asked at every sign-in,
 * and repeated wrong passwords lock the username.
 */

/** The authenticator app's code, `stepsAhead` 30-second steps from now (the server accepts ±1). */
function authenticatorCode(secret: string, stepsAhead = 0): string {
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 });
  return totp.generate({ timestamp: Date.now() + stepsAhead * 30_000 });
}

describe('sign-in protection', () => {
  let stack: Stack;
  let redis: RedisClient;
  let browser: HospitalBrowser;

  beforeAll(async () => {
    stack = await launchThrowawayStack({ sfuWorkers: 1, env: { TOTP_REQUIRED_FOR_PRIVILEGED: 'true' } });
    redis = await connectRedis(stack.redisUrl, () => undefined);
    browser = await openHospitalBrowser({ label: 'tanaka' });
  });

  afterAll(async () => {
    await browser?.close();
    await redis?.close();
    await stack?.stop();
  });

  it('makes a coordinator enrol an authenticator, then asks for its code at every sign-in', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    const { page } = browser;
    await page.goto(`${stack.webUrl}/login`);
    await page.fill('input[name="username"]', 'tanaka');
    await page.fill('input[name="password"]', 'tanaka-demo-2026');
    await Promise.all([page.waitForURL(/\/account\/security/), page.click('[data-testid="sign-in"]')]);
    // Nothing else opens until the second factor is set up.
    await page.goto(`${stack.webUrl}/schedule`);
    expect(new URL(page.url()).pathname).toBe('/account/security');

    const secret = (await page.locator('[data-testid="totp-secret"]').textContent())!.replace(/\s+/g, '');
    await page.fill('[data-testid="totp-code"]', authenticatorCode(secret));
    // Once enrolled, the page lets the coordinator go on to where they were heading.
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/schedule'),
      page.click('[data-testid="enable-totp"]'),
    ]);
    await page.goto(`${stack.webUrl}/schedule`);
    expect(new URL(page.url()).pathname).toBe('/schedule');

    await Promise.all([page.waitForURL(/\/login/), page.click('form[action="/logout"] button')]);
    await page.fill('input[name="username"]', 'tanaka');
    await page.fill('input[name="password"]', 'tanaka-demo-2026');
    await page.click('[data-testid="sign-in"]');
    await page.waitForSelector('[data-testid="totp-code"]');
    await page.fill('[data-testid="totp-code"]', '000000');
    await page.click('[data-testid="verify-totp"]');
    await page.waitForSelector('[role="alert"]');
    // The code of the next step: the one used at enrolment may not be used again.
    await page.fill('[data-testid="totp-code"]', authenticatorCode(secret, 1));
    await Promise.all([page.waitForURL(`${stack.webUrl}/sessions`), page.click('[data-testid="verify-totp"]')]);
    const actions = (await new AuditLog(redis).recent(20)).map((entry) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(['account.totp-enabled', 'signin.totp-failed', 'signin.succeeded']));
  });

  it('locks a username after repeated wrong passwords, even for the right one', async () => {
    const { page } = browser;
    await page.context().clearCookies();
    await page.goto(`${stack.webUrl}/login`);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await page.fill('input[name="username"]', 'sato');
      await page.fill('input[name="password"]', `wrong-${attempt}`);
      await page.click('[data-testid="sign-in"]');
      await page.waitForSelector('[role="alert"]');
    }
    await page.fill('input[name="username"]', 'sato');
    await page.fill('input[name="password"]', 'sato-demo-2026');
    await page.click('[data-testid="sign-in"]');
    await expect.poll(() => page.locator('[role="alert"]').textContent()).toContain('ロック');
    expect(new URL(page.url()).pathname).toBe('/login');
    const locked = (await new AuditLog(redis).recent(5)).find((entry) => entry.action === 'signin.locked');
    expect(locked?.outcome).toBe('denied');
  });
});
