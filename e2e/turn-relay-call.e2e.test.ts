import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { DEMO_SESSION_ID, demoConferenceAccounts } from '@telemed/domain';
import { launchThrowawayStack, type Stack } from '../stack/stack.ts';
import {
  openHospitalBrowser,
  openRoom,
  signIn,
  trustingTurnCertificate,
  type HospitalBrowser,
} from './hospital-browser.ts';

/**
 * Two hospitals whose firewalls let nothing out but TLS: their browsers may reach the SFU only
 * through the stack's private coturn over TLS (QA's `relayOnly: 'turn-tls'`, set before the room
 * page loads), and the call still carries their voices. A third, unhindered site is offered the
 * same TURN servers but goes straight over UDP: relays come last.
 */
describe('a call relayed through TURN over TLS only', () => {
  let stack: Stack;
  const sites: HospitalBrowser[] = [];

  beforeAll(async () => {
    stack = await launchThrowawayStack({ sfuWorkers: 1 });
  });

  afterAll(async () => {
    await Promise.all(sites.map((site) => site.close()));
    await stack?.stop();
  });

  it('joins, carries audio both ways, and the relayed sides report turn-tls, the direct one udp (the host’s media stats too)', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    expect(stack.turnUrls.some((url) => url.startsWith('turns:'))).toBe(true);
    const relayed = ['tanaka', 'sato'];
    const accounts = demoConferenceAccounts.filter((account) => [...relayed, 'suzuki'].includes(account.username));
    for (const account of accounts) {
      const site = await openHospitalBrowser({
        label: account.username,
        viewport: { width: 1024, height: 700 },
        extraArgs: trustingTurnCertificate(stack),
      });
      sites.push(site);
      if (relayed.includes(account.username)) {
        await site.page.addInitScript(() => {
          window.telemedQaSettings = { relayOnly: 'turn-tls' };
        });
      }
      await signIn(site.page, stack.webUrl, account.username, account.password);
      await openRoom(site.page, stack.webUrl, DEMO_SESSION_ID);
    }
    await Promise.all(sites.map((site) => site.page.click('[data-testid="join"]')));
    await Promise.all(
      sites.map((site) => site.page.waitForSelector('main[data-conference-state="joined"]', { timeout: 60_000 })),
    );

    for (const [index, site] of sites.entries()) {
      const path = relayed.includes(accounts[index]!.username) ? 'turn-tls' : 'udp';
      // Each hears the others: inbound audio bytes keep increasing.
      const audioBytes = () =>
        site.page.evaluate(async () => (await window.telemedQa!.mediaByteCounts()).inboundAudioBytes);
      await expect.poll(audioBytes, { timeout: 30_000 }).toBeGreaterThan(0);
      const first = await audioBytes();
      await expect.poll(audioBytes, { timeout: 10_000 }).toBeGreaterThan(first);
      // Both transports took the expected path, and the own tile's details say so.
      await expect
        .poll(() => site.page.evaluate(() => window.telemedQa!.transportPaths!()), { timeout: 20_000 })
        .toEqual({ send: path, recv: path });
      const own = site.page.locator('figure.local [data-transport-path]');
      expect(await own.getAttribute('data-transport-path')).toBe(path);
      await site.page.click('figure.local [data-testid="quality-indicator"]');
      expect(await site.page.locator('figure.local [data-testid="transport-path"]').innerText()).toBe(
        path === 'udp' ? 'UDP（直接）' : 'TURN 中継（TLS）',
      );
      await site.page.keyboard.press('Escape');
    }

    // The host sees each participant's path in the media stats.
    const host = sites[0]!.page;
    await host.click('[data-testid="toggle-media-stats"]');
    const rows = host.locator('[data-testid="media-stats"] tr[data-participant-id]');
    await expect
      .poll(() => rows.evaluateAll((all) => all.map((row) => row.getAttribute('data-transport-path')).sort()), {
        timeout: 20_000,
      })
      .toEqual(['turn-tls', 'turn-tls', 'udp']);
  });
});
