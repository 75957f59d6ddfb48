import ICAL from 'ical.js';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { AuditLog, connectRedis, type RedisClient } from '@telemed/domain';
import { launchThrowawayStack, type Stack } from '../stack/stack.ts';
import { openHospitalBrowser, signIn, type HospitalBrowser } from './hospital-browser.ts';

/**
 * A coordinator schedules a case conference in the browser; an invited site doctor finds it in
 * "My sessions", adds it to a calendar and joins while it is live; an uninvited doctor is refused.
 */

/** Today's Japan date and a start a few minutes ago (so the session is live now), as form values. */
function liveSlot(): { date: string; start: string; end: string } {
  const tokyo = new Date(Date.now() + 9 * 3600_000);
  const date = tokyo.toISOString().slice(0, 10);
  const minutes = Math.max(0, Math.floor((tokyo.getUTCHours() * 60 + tokyo.getUTCMinutes() - 5) / 5) * 5);
  const endMinutes = Math.min(minutes + 60, 23 * 60 + 55);
  const clock = (total: number) =>
    `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
  return { date, start: clock(minutes), end: clock(endMinutes) };
}

describe('scheduling in the browser', () => {
  let stack: Stack;
  let redis: RedisClient;
  let coordinator: HospitalBrowser;
  let invited: HospitalBrowser;
  let sessionId = '';

  beforeAll(async () => {
    stack = await launchThrowawayStack({ sfuWorkers: 1 });
    redis = await connectRedis(stack.redisUrl, () => undefined);
    coordinator = await openHospitalBrowser({ label: 'tanaka' });
    invited = await openHospitalBrowser({ label: 'sato' });
  });

  afterAll(async () => {
    await coordinator?.close();
    await invited?.close();
    await redis?.close();
    await stack?.stop();
  });

  it('lets a coordinator schedule a session for two sites, with field errors and a double-booking warning', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    const { page } = coordinator;
    await signIn(page, stack.webUrl, 'tanaka', 'tanaka-demo-2026');
    await page.goto(`${stack.webUrl}/schedule`);
    await page.click('[data-testid="new-session"]');
    const slot = liveSlot();
    await page.fill('input[name="title"]', '青島 胸部CT 合同読影');
    await page.fill('textarea[name="description"]', '右下葉結節の経過観察について');
    await page.fill('input[name="date"]', slot.date);
    await page.fill('input[name="startTime"]', slot.start);
    // First an end before the start: a field-level message in Japanese, nothing stored.
    await page.fill('input[name="endTime"]', '00:00');
    await page.check('[data-testid="invite-site-aoshima"]');
    await page.click('[data-testid="save-session"]');
    await expect.poll(() => page.locator('[data-field-error="endTime"]').textContent()).toContain('終了は開始より後');

    // A valid time now clashes with the demo conference (same host and sites): a warning first.
    await page.fill('input[name="endTime"]', slot.end);
    await page.click('[data-testid="save-session"]');
    await page.waitForSelector('[data-testid="double-booking"]');
    expect(await page.locator('[data-testid="double-booking"]').textContent()).toContain('離島合同症例検討会（デモ）');
    await page.check('[data-testid="allow-double-booking"]');
    await Promise.all([
      page.waitForURL(/\/schedule\/[0-9a-f-]{36}\?saved=1$/),
      page.click('[data-testid="save-session"]'),
    ]);
    sessionId = /\/schedule\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    expect(await page.locator('[data-testid="session-title"]').textContent()).toBe('青島 胸部CT 合同読影');
    expect(await page.locator('[data-testid="session-status"]').getAttribute('data-status')).toBe('live');

    // A case with its consent reference.
    await page.fill('input[name="patientRef"]', 'AO-2026-0142');
    await page.fill('input[name="summary"]', '右下葉結節');
    await page.fill('textarea[name="studyInstanceUids"]', '1.2.392.200036.9116.2.6.1.48.1214833767');
    await page.fill('input[name="documentNumber"]', 'IC-2026-118');
    await page.fill('input[name="recordedBy"]', '佐藤 花子');
    await page.fill('input[name="recordedAt"]', `${slot.date}T08:30`);
    await page.selectOption('select[name="patientSiteId"]', 'aoshima');
    await page.check('input[name="deidentifyOutsidePatientSite"]');
    await page.click('[data-testid="attach-case"]');
    await expect.poll(() => page.locator('[data-testid="case"]').count()).toBe(1);
    expect(await page.locator('[data-testid="case"]').textContent()).toContain('IC-2026-118');
    expect(await page.locator('[data-testid="case"]').textContent()).toContain('他施設には匿名化して表示');

    const audit = (await new AuditLog(redis).recent(20)).filter((entry) => entry.sessionId === sessionId);
    expect(audit.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['session.created', 'session.case-attached']),
    );

    // The calendar shows it, in the week and in the month.
    await page.goto(`${stack.webUrl}/schedule?view=month&date=${slot.date}`);
    expect(await page.locator(`[data-testid="calendar-session"][data-session-id="${sessionId}"]`).count()).toBe(1);
  });

  it('shows the session to an invited site doctor, whose calendar accepts the .ics, and lets them join', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    const { page } = invited;
    await signIn(page, stack.webUrl, 'sato', 'sato-demo-2026');
    const card = page.locator(`[data-testid="live-sessions"] [data-session-id="${sessionId}"]`);
    await expect.poll(() => card.count()).toBe(1);
    expect(await card.textContent()).toContain('(JST)');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click(`[data-testid="live-sessions"] [data-session-id="${sessionId}"] a[href$="calendar.ics"]`),
    ]);
    const calendar = new ICAL.Component(ICAL.parse(await readFile((await download.path())!, 'utf8')));
    const event = new ICAL.Event(calendar.getFirstSubcomponent('vevent')!);
    expect(event.summary).toBe('青島 胸部CT 合同読影');
    expect(event.uid).toContain(sessionId);
    expect(event.component.getFirstProperty('dtstart')?.getParameter('tzid')).toBe('Asia/Tokyo');
    expect(calendar.getFirstSubcomponent('vtimezone')?.getFirstPropertyValue('tzid')).toBe('Asia/Tokyo');
    expect(event.description).not.toContain('AO-2026-0142');

    await Promise.all([
      page.waitForURL(`${stack.webUrl}/sessions/${sessionId}`),
      page.click(`[data-testid="join-${sessionId}"]`),
    ]);
    await page.click('[data-testid="join"]');
    await page.waitForSelector('main[data-conference-state="joined"]', { timeout: 30_000 });
  });

  it('refuses the room to a doctor whose site is not invited, and audits it', async () => {
    const outsider = await openHospitalBrowser({ label: 'suzuki' });
    try {
      await signIn(outsider.page, stack.webUrl, 'suzuki', 'suzuki-demo-2026');
      expect(await outsider.page.locator(`[data-session-id="${sessionId}"]`).count()).toBe(0);
      const response = await outsider.page.goto(`${stack.webUrl}/sessions/${sessionId}`);
      expect(response?.status()).toBe(403);
      const denied = (await new AuditLog(redis).recent(10)).find(
        (entry) => entry.action === 'conference.denied' && entry.sessionId === sessionId,
      );
      expect(denied).toBeDefined();
    } finally {
      await outsider.close();
    }
  });
});
