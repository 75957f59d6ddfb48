import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { Page } from 'playwright-core';
import {
  AuditLog,
  DEMO_SESSION_ID,
  DEMO_STUDY_INSTANCE_UID,
  connectRedis,
  demoConferenceAccounts,
  type RedisClient,
} from '@telemed/domain';
import { launchThrowawayStack, type Stack } from '../stack/stack.ts';
import { joinCall, openHospitalBrowser, signIn, type HospitalBrowser } from './hospital-browser.ts';

/**
 * The room's chat, floor control and recording banner in real browsers with fake media: the hub's
 * specialist hosts, the island doctors take part, one joins late. Markup typed into the chat must
 * stay text; the host's mute must pause the microphone on the server; a removed doctor stays out.
 */

const [tanaka, sato, suzuki] = demoConferenceAccounts as [
  (typeof demoConferenceAccounts)[number],
  (typeof demoConferenceAccounts)[number],
  (typeof demoConferenceAccounts)[number],
];

const INJECTION = '<img src=x onerror="window.injected=1"> <script>window.injected=2</script> 所見あり';

const messageText = (page: Page, seq: number) =>
  page.locator(`[data-chat-message][data-chat-seq="${seq}"] [data-chat-text]`).textContent();

/** The participant id the page lists for a display name. */
async function participantId(page: Page, displayName: string): Promise<string> {
  const item = page.locator(`[data-testid="participant-list"] [data-participant-name="${displayName}"]`);
  await item.waitFor();
  return (await item.getAttribute('data-participant-id')) ?? '';
}

async function queueOrder(page: Page): Promise<string[]> {
  return page
    .locator('[data-testid="hand-queue"] [data-hand-participant]')
    .evaluateAll((items) => items.map((item) => item.getAttribute('data-hand-participant') ?? ''));
}

describe('chat, floor control and the recording banner in the room', () => {
  let stack: Stack;
  let redis: RedisClient;
  const sites = new Map<string, HospitalBrowser>();

  beforeAll(async () => {
    stack = await launchThrowawayStack({ sfuWorkers: 1 });
    redis = await connectRedis(stack.redisUrl, () => undefined);
  });

  afterAll(async () => {
    await Promise.all([...sites.values()].map((site) => site.close()));
    await redis?.close();
    await stack?.stop();
  });

  async function joinAs(account: (typeof demoConferenceAccounts)[number]): Promise<Page> {
    const site = await openHospitalBrowser({ label: account.username });
    sites.set(account.username, site);
    await signIn(site.page, stack.webUrl, account.username, account.password);
    await joinCall(site.page, stack.webUrl, DEMO_SESSION_ID);
    await site.page.waitForSelector('[data-testid="chat-panel"]');
    return site.page;
  }

  const page = (account: { username: string }) => sites.get(account.username)!.page;

  it('delivers chat as text, points to a study, refuses a message too long, and shows it all to a late joiner', async () => {
    onTestFailed(async () => console.error(await stack.logTails(60)));
    const host = await joinAs(tanaka);
    const island = await joinAs(sato);
    for (const one of [host, island]) {
      const banner = one.locator('[data-testid="recording-banner"]');
      expect(await banner.getAttribute('data-recording-allowed')).toBe('false');
      expect(await banner.getAttribute('data-recording-active')).toBe('false');
      expect(await banner.textContent()).toContain('録画が許可されていません');
    }

    await island.fill('[data-testid="chat-input"]', INJECTION);
    await island.press('[data-testid="chat-input"]', 'Enter');
    await host.waitForSelector('[data-chat-message][data-chat-seq="1"]', { timeout: 15_000 });
    expect(await messageText(host, 1)).toBe(INJECTION);
    await expect.poll(() => messageText(island, 1)).toBe(INJECTION);
    expect(await island.inputValue('[data-testid="chat-input"]')).toBe('');
    for (const one of [host, island]) {
      expect(await one.locator('[data-testid="chat-messages"] img, [data-testid="chat-messages"] script').count()).toBe(
        0,
      );
      expect(await one.evaluate(() => (window as { injected?: number }).injected)).toBeUndefined();
    }
    // Shown in Japan time.
    const time = host.locator('[data-chat-message][data-chat-seq="1"] time');
    const sentAt = (await time.getAttribute('datetime')) ?? '';
    const tokyo = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Asia/Tokyo',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    expect(await time.textContent()).toBe(tokyo.format(new Date(sentAt)));

    // The host points to the case's CT; the island sees a button naming it.
    await host.selectOption('[data-testid="chat-study"]', DEMO_STUDY_INSTANCE_UID);
    await host.fill('[data-testid="chat-input"]', 'この CT の右下葉をご覧ください');
    await host.click('[data-testid="chat-send"]');
    const link = island.locator(
      `[data-chat-message][data-chat-seq="2"] [data-testid="chat-study-link"][data-study-uid="${DEMO_STUDY_INSTANCE_UID}"]`,
    );
    await link.waitFor({ timeout: 15_000 });
    expect(await link.textContent()).toContain('画像を表示');

    // The host opens it from the chat: the series is shown to everyone.
    await host
      .locator(`[data-testid="joint-read"] button[data-study-uid="${DEMO_STUDY_INSTANCE_UID}"]`)
      .first()
      .waitFor({
        timeout: 30_000,
      });
    await host.click(`[data-chat-message][data-chat-seq="2"] [data-testid="chat-study-link"]`);
    const viewer = '[data-testid="joint-read"]';
    await expect.poll(() => host.locator(viewer).getAttribute('data-is-presenter'), { timeout: 20_000 }).toBe('true');
    const series = host.locator(`${viewer} button[data-study-uid="${DEMO_STUDY_INSTANCE_UID}"]`).first();
    const seriesUid = (await series.getAttribute('data-series-uid')) ?? '';
    await expect.poll(() => island.locator(viewer).getAttribute('data-series'), { timeout: 30_000 }).toBe(seriesUid);

    // Too long: the island is told why, and nothing goes out.
    await island.fill('[data-testid="chat-input"]', 'あ'.repeat(1001));
    await island.click('[data-testid="chat-send"]');
    await island.waitForSelector('[data-testid="chat-error"][data-chat-error="too_long"]');
    expect(await island.locator('[data-testid="chat-error"]').textContent()).toContain('1000文字以内');
    await island.fill('[data-testid="chat-input"]', '');

    // A third site joins late and reads the conversation from the start.
    const late = await joinAs(suzuki);
    await late.waitForSelector('[data-chat-message][data-chat-seq="2"]', { timeout: 15_000 });
    expect(await late.locator('[data-chat-message]').count()).toBe(2);
    expect(await messageText(late, 1)).toBe(INJECTION);
    expect(await late.locator('[data-chat-message][data-chat-seq="1"]').getAttribute('data-chat-author')).toBe(
      await redis.get('account:username:sato'),
    );
    expect(await late.evaluate(() => (window as { injected?: number }).injected)).toBeUndefined();

    // The chat is kept with the session and downloads with its record; island doctors do not download it.
    const exported = await host.evaluate(async (id) => {
      const response = await fetch(`/api/v1/sessions/${id}/record`);
      return { status: response.status, body: (await response.json()) as { chat: { messages: { text: string }[] } } };
    }, DEMO_SESSION_ID);
    expect(exported.status).toBe(200);
    expect(exported.body.chat.messages.map((message) => message.text)).toEqual([
      INJECTION,
      'この CT の右下葉をご覧ください',
    ]);
    const refused = await island.evaluate(
      async (id) => (await fetch(`/api/v1/sessions/${id}/record?format=csv`)).status,
      DEMO_SESSION_ID,
    );
    expect(refused).toBe(403);
  });

  it('queues raised hands for the host in order; the host lowers, mutes and removes', async () => {
    onTestFailed(async () => console.error(await stack.logTails(60)));
    const [host, island, late] = [page(tanaka), page(sato), page(suzuki)];
    for (const one of [host, island, late]) await one.click('[data-testid="side-tab-participants"]');
    const satoId = await participantId(host, sato.displayName);
    const suzukiId = await participantId(host, suzuki.displayName);

    await island.click('[data-testid="raise-hand"]');
    await expect.poll(() => queueOrder(host), { timeout: 15_000 }).toEqual([satoId]);
    await late.click('[data-testid="raise-hand"]');
    await expect.poll(() => queueOrder(host), { timeout: 15_000 }).toEqual([satoId, suzukiId]);
    expect(
      await host
        .locator(`[data-testid="participant-list"] [data-participant-id="${satoId}"]`)
        .getAttribute('data-hand-raised'),
    ).toBe('true');
    // Everyone sees the same queue, and the hands on the video tiles.
    await expect.poll(() => queueOrder(late)).toEqual([satoId, suzukiId]);
    await host.locator(`figure[data-participant-id="${satoId}"][data-hand-raised="true"]`).first().waitFor();

    await host.click(`[data-testid="lower-hand-${satoId}"]`);
    await expect.poll(() => queueOrder(host), { timeout: 15_000 }).toEqual([suzukiId]);
    await expect
      .poll(() => island.locator('[data-testid="raise-hand"]').getAttribute('aria-pressed'), { timeout: 15_000 })
      .toBe('false');

    // The host mutes the island doctor: told on screen, paused on the server, no way for the host to undo it.
    expect(await island.locator('[data-testid="toggle-mic"]').getAttribute('aria-pressed')).toBe('false');
    await host.click(`[data-testid="mute-${satoId}"]`);
    await island.waitForSelector('[data-testid="muted-by-host"]', { timeout: 15_000 });
    expect(await island.locator('[data-testid="muted-by-host"]').textContent()).toContain(
      'ホストがあなたのマイクをミュートしました',
    );
    expect(await island.locator('[data-testid="toggle-mic"]').getAttribute('aria-pressed')).toBe('true');
    const microphonePaused = async () => {
      const producers = Object.values(await redis.hGetAll(`conference:${DEMO_SESSION_ID}:producers`)).map(
        (value) => JSON.parse(value) as { participantId: string; source: string; paused: boolean },
      );
      return producers.find((producer) => producer.participantId === satoId && producer.source === 'microphone')
        ?.paused;
    };
    await expect.poll(microphonePaused, { timeout: 15_000 }).toBe(true);
    const satoRow = host.locator(`[data-testid="participant-list"] [data-participant-id="${satoId}"]`);
    await expect.poll(() => satoRow.getAttribute('data-mic-muted'), { timeout: 15_000 }).toBe('true');
    expect(await host.locator(`[data-testid="mute-${satoId}"]`).isDisabled()).toBe(true);
    expect(await host.locator('[data-testid^="unmute-"]').count()).toBe(0);
    await host.waitForSelector('[data-testid="floor-notice"][data-floor-notice="muted"]');

    // Only the doctor unmutes.
    await island.click('[data-testid="toggle-mic"]');
    await expect.poll(microphonePaused, { timeout: 15_000 }).toBe(false);
    await expect.poll(() => satoRow.getAttribute('data-mic-muted'), { timeout: 15_000 }).toBe('false');
    await expect.poll(() => island.locator('[data-testid="muted-by-host"]').count()).toBe(0);

    // Removal: a confirmation, then the late doctor's call ends for good; the queue loses their hand.
    await host.click(`[data-testid="remove-${suzukiId}"]`);
    await host.click(`[data-testid="confirm-remove-${suzukiId}"]`);
    await late.waitForSelector('main[data-session-ended="removed"]', { timeout: 15_000 });
    expect(await late.locator('[data-testid="session-ended"]').textContent()).toContain('ホストにより');
    await host.waitForSelector('[data-testid="floor-notice"][data-floor-notice="removed"]');
    await expect
      .poll(() => host.locator(`[data-testid="participant-list"] [data-participant-id="${suzukiId}"]`).count(), {
        timeout: 15_000,
      })
      .toBe(0);
    await expect.poll(() => host.locator('[data-testid="hand-queue"]').count(), { timeout: 15_000 }).toBe(0);
    const again = await late.goto(`${stack.webUrl}/sessions/${DEMO_SESSION_ID}`);
    expect(again?.status()).toBe(403);

    // A participant's controls offer none of this.
    expect(await island.locator(`[data-testid="mute-${satoId}"], [data-testid^="remove-"]`).count()).toBe(0);

    const { entries } = await new AuditLog(redis).query({ sessionId: DEMO_SESSION_ID, limit: 1000 });
    const actions = entries.map((entry) => entry.action);
    expect(actions).toEqual(
      expect.arrayContaining(['floor.hand-lowered', 'floor.muted', 'floor.removed', 'chat.posted']),
    );
  });

  it('sets the recording flag in the session form, and every room shows the flag at once', async () => {
    onTestFailed(async () => console.error(await stack.logTails(60)));
    const host = sites.get('tanaka')!;
    const form = await host.browser.contexts()[0]!.newPage();
    await form.goto(`${stack.webUrl}/schedule/new`);
    await form.fill('input[name="title"]', '録画許可の確認');
    await form.check('[data-testid="recording-allowed"]');
    await Promise.all([
      form.waitForURL(/\/schedule\/[0-9a-f-]+\?saved=1$/),
      form.click('[data-testid="save-session"]'),
    ]);
    expect(await form.locator('dd[data-testid="recording-allowed"]').getAttribute('data-recording-allowed')).toBe(
      'true',
    );
    await Promise.all([form.waitForURL(/\/edit$/), form.click('[data-testid="edit-session"]')]);
    expect(await form.isChecked('[data-testid="recording-allowed"]')).toBe(true);
    await form.uncheck('[data-testid="recording-allowed"]');
    await Promise.all([form.waitForURL(/\?saved=1$/), form.click('[data-testid="save-session"]')]);
    expect(await form.locator('dd[data-testid="recording-allowed"]').getAttribute('data-recording-allowed')).toBe(
      'false',
    );
    await form.close();

    // The live conference is allowed to be recorded (through the REST API): the rooms say so at once.
    const status = await host.page.evaluate(async (id) => {
      const response = await fetch(`/api/v1/sessions/${id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ recordingAllowed: true }),
      });
      return response.status;
    }, DEMO_SESSION_ID);
    expect(status).toBe(200);
    for (const one of [host.page, page(sato)]) {
      const banner = one.locator('[data-testid="recording-banner"]');
      await expect.poll(() => banner.getAttribute('data-recording-allowed'), { timeout: 15_000 }).toBe('true');
      expect(await banner.getAttribute('data-recording-active')).toBe('false');
      expect(await banner.textContent()).toContain('録画が許可されています');
    }
    const changes = (await new AuditLog(redis).recent(50)).filter(
      (entry) => entry.action === 'session.updated' && entry.sessionId === DEMO_SESSION_ID,
    );
    expect(changes[0]?.detail).toMatchObject({ changed: ['recordingAllowed'], recordingAllowed: true });
  });
});
