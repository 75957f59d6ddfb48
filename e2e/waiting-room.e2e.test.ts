import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { AuditLog, DEMO_SESSION_ID, connectRedis, type RedisClient } from '@telemed/domain';
import { launchThrowawayStack, type Stack } from '../stack/stack.ts';
import { ensureSite, testAccount } from './api-client.ts';
import { openHospitalBrowser, openRoom, signIn, type HospitalBrowser } from './hospital-browser.ts';

/**
 * The host's waiting room in real browsers: a doctor who is not invited asks to be let in, the
 * host admits them from the call, and they join; when the session is cancelled mid-call everyone
 * in it is told why.
 */
describe('the waiting room', () => {
  let stack: Stack;
  let redis: RedisClient;
  let host: HospitalBrowser;
  let guest: HospitalBrowser;
  let guestId = '';

  beforeAll(async () => {
    stack = await launchThrowawayStack({ sfuWorkers: 1 });
    redis = await connectRedis(stack.redisUrl, () => undefined);
    await ensureSite(redis, 'yamanaka', '山中診療所', 'Yamanaka Clinic');
    guestId = (await testAccount(redis, 'yamada', 'yamanaka', ['site-doctor'], '山田 太郎')).account.id;
    host = await openHospitalBrowser({ label: 'tanaka' });
    guest = await openHospitalBrowser({ label: 'yamada' });
  });

  afterAll(async () => {
    await host?.close();
    await guest?.close();
    await redis?.close();
    await stack?.stop();
  });

  it('lets the host admit a doctor who was not invited', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    await signIn(host.page, stack.webUrl, 'tanaka', 'tanaka-demo-2026');
    await openRoom(host.page, stack.webUrl, DEMO_SESSION_ID);
    await host.page.click('[data-testid="join"]');
    await host.page.waitForSelector('main[data-conference-state="joined"]');

    await signIn(guest.page, stack.webUrl, 'yamada', 'yamada-password-1');
    const refused = await guest.page.goto(`${stack.webUrl}/sessions/${DEMO_SESSION_ID}`);
    expect(refused?.status()).toBe(403);
    await Promise.all([guest.page.waitForURL(/\/lobby$/), guest.page.click('[data-testid="ask-host"]')]);
    await guest.page.waitForSelector('[data-testid="lobby-status"][data-lobby-status="waiting"]');

    await host.page.waitForSelector(`[data-testid="admit-${guestId}"]`);
    expect(await host.page.locator('[data-testid="waiting-room"]').textContent()).toContain('山田 太郎');
    await host.page.click(`[data-testid="admit-${guestId}"]`);

    await guest.page.waitForURL(`${stack.webUrl}/sessions/${DEMO_SESSION_ID}`);
    await guest.page.waitForSelector('[data-testid="join"]:not([disabled])');
    await guest.page.click('[data-testid="join"]');
    await guest.page.waitForSelector('main[data-conference-state="joined"]', { timeout: 30_000 });
    const actions = (await new AuditLog(redis).recent(30)).map((entry) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(['conference.knocked', 'conference.admitted', 'conference.joined']));
  });

  it('tells everyone in the call when the session is cancelled', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    const cancelled = await host.page.evaluate(async (id) => {
      const response = await fetch(`/api/v1/sessions/${id}/cancel`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason: '台風接近のため' }),
      });
      return response.status;
    }, DEMO_SESSION_ID);
    expect(cancelled).toBe(200);
    for (const site of [host, guest]) {
      await site.page.waitForSelector('main[data-session-ended="cancelled"]', { timeout: 15_000 });
      expect(await site.page.locator('[data-testid="session-ended"]').textContent()).toContain('中止');
    }
  });
});
