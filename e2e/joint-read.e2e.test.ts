import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { Page } from 'playwright-core';
import { AuditLog, DEMO_SESSION_ID, connectRedis, demoConferenceAccounts } from '@telemed/domain';
import { io } from 'socket.io-client';
import { DEMO_PRIOR_STUDY_INSTANCE_UID } from '../stack/demo-study.ts';
import { launchThrowawayStack, type Stack } from '../stack/stack.ts';
import { ensureSite, page as fetchPage, testAccount } from './api-client.ts';
import { joinCall, openHospitalBrowser, signIn, withoutWebGl, type HospitalBrowser } from './hospital-browser.ts';

/**
 * Joint reading in real browsers, against the real proxy and the private Orthanc's demo CT: the
 * hub's specialist presents, the island doctor follows, a third site joins late, and the
 * presenter role changes hands. Only view state crosses signaling; each site loads the pixels
 * through its own web server's /dicom-web/ route.
 */

const viewer = '[data-testid="joint-read"]';
const [tanaka, sato, suzuki] = demoConferenceAccounts as [
  (typeof demoConferenceAccounts)[number],
  (typeof demoConferenceAccounts)[number],
  (typeof demoConferenceAccounts)[number],
];

async function attribute(page: Page, name: string): Promise<string> {
  return (await page.locator(viewer).getAttribute(name)) ?? '';
}

/** The centre of the image area, in page coordinates. */
async function viewportCentre(page: Page): Promise<{ x: number; y: number; width: number; height: number }> {
  const box = await page.locator(`${viewer} .viewport`).boundingBox();
  if (!box) throw new Error('no viewport');
  return { x: box.x + box.width / 2, y: box.y + box.height / 2, width: box.width, height: box.height };
}

/**
 * A value once it holds still for 400 ms: a drag's last moves reach the viewport's state on
 * the next frames, after the mouse is released.
 */
async function settled<T>(read: () => Promise<T>): Promise<T> {
  let value = await read();
  await expect
    .poll(
      async () => {
        const before = value;
        await new Promise((resolve) => setTimeout(resolve, 400));
        value = await read();
        return JSON.stringify(before) === JSON.stringify(value);
      },
      { timeout: 10_000 },
    )
    .toBe(true);
  return value;
}

async function measurements(page: Page): Promise<{ tool: string; length?: number | undefined }[]> {
  return page.evaluate(() => window.telemedQa?.jointReadMeasurements?.() ?? []);
}

describe('joint reading across sites', () => {
  let stack: Stack;
  const sites: HospitalBrowser[] = [];

  beforeAll(async () => {
    stack = await launchThrowawayStack({ sfuWorkers: 1 });
  });

  afterAll(async () => {
    await Promise.all(sites.map((site) => site.close()));
    await stack?.stop();
  });

  async function joinAs(account: (typeof demoConferenceAccounts)[number], extraArgs: string[] = []): Promise<Page> {
    const site = await openHospitalBrowser({ label: account.username, extraArgs });
    sites.push(site);
    await signIn(site.page, stack.webUrl, account.username, account.password);
    await joinCall(site.page, stack.webUrl, DEMO_SESSION_ID);
    await site.page.waitForSelector(`${viewer}[data-viewer-ready="true"]`);
    return site.page;
  }

  it('keeps the follower on the presenter’s image, window, zoom, measurement and pointer', async () => {
    onTestFailed(async () => console.error(await stack.logTails(60)));
    const presenter = await joinAs(tanaka);
    const follower = await joinAs(sato);

    // The hub opens the case's series: it becomes the presenter, and the island follows.
    const seriesButton = presenter.locator(`${viewer} button[data-series-uid]`).first();
    await seriesButton.waitFor();
    const seriesUid = (await seriesButton.getAttribute('data-series-uid')) ?? '';
    await seriesButton.click();
    await expect.poll(() => attribute(presenter, 'data-is-presenter'), { timeout: 15_000 }).toBe('true');
    for (const page of [presenter, follower]) {
      await expect.poll(() => attribute(page, 'data-series'), { timeout: 30_000 }).toBe(seriesUid);
      await expect.poll(() => attribute(page, 'data-presenter-name')).toBe(tanaka.displayName);
    }

    // Scroll to the 13th slice with the keyboard.
    await presenter.locator(`${viewer} .viewport-frame`).focus();
    for (let step = 0; step < 12; step += 1) await presenter.keyboard.press('ArrowDown');
    await expect.poll(() => attribute(presenter, 'data-image-index')).toBe('12');
    await expect.poll(() => attribute(follower, 'data-image-index'), { timeout: 10_000 }).toBe('12');

    // Mediastinal window, W/L 40/400.
    await presenter.click(`${viewer} button[data-preset="mediastinum"]`);
    await expect.poll(() => attribute(presenter, 'data-voi')).toBe('40/400');
    await expect.poll(() => attribute(follower, 'data-voi'), { timeout: 10_000 }).toBe('40/400');

    // Zoom in by dragging with the zoom tool, to about twice the fitted size.
    await presenter.click(`${viewer} button[data-tool="Zoom"]`);
    const centre = await viewportCentre(presenter);
    await presenter.mouse.move(centre.x, centre.y);
    await presenter.mouse.down();
    for (let step = 1; step <= 10; step += 1) await presenter.mouse.move(centre.x, centre.y + step * 12);
    await presenter.mouse.up();
    const presenterZoom = Number(await settled(() => attribute(presenter, 'data-zoom')));
    expect(presenterZoom).toBeGreaterThan(1.3);
    await expect
      .poll(async () => Math.abs(Number(await attribute(follower, 'data-zoom')) - presenterZoom), { timeout: 10_000 })
      .toBeLessThan(0.02);
    // The same point of the image at the centre (within a thousandth of the image's size).
    const panOf = async (page: Page) => (await attribute(page, 'data-pan')).split(',').map(Number);
    const presenterPan = await panOf(presenter);
    await expect
      .poll(async () =>
        Math.max(...(await panOf(follower)).map((value, axis) => Math.abs(value - presenterPan[axis]!))),
      )
      .toBeLessThan(0.001);

    // A length measurement: the follower shows it with the same length in mm.
    await presenter.click(`${viewer} button[data-tool="Length"]`);
    const from = await viewportCentre(presenter);
    await presenter.mouse.move(from.x - 60, from.y - 20);
    await presenter.mouse.down();
    for (let step = 1; step <= 10; step += 1)
      await presenter.mouse.move(from.x - 60 + step * 12, from.y - 20 + step * 4);
    await presenter.mouse.up();
    await expect.poll(async () => (await measurements(presenter)).filter((m) => m.tool === 'Length').length).toBe(1);
    const lengthAt = async (page: Page) => (await measurements(page)).find((m) => m.tool === 'Length')?.length ?? -1;
    const presenterLength = await settled(() => lengthAt(presenter));
    await expect.poll(() => lengthAt(follower), { timeout: 10_000 }).toBeCloseTo(presenterLength, 1);
    expect(presenterLength).toBeGreaterThan(5);

    // The laser pointer, in image coordinates.
    await presenter.click(`${viewer} button[data-tool="Pointer"]`);
    await presenter.mouse.move(from.x + 30, from.y + 40);
    await expect.poll(() => attribute(presenter, 'data-pointer')).not.toBe('');
    const pointer = await settled(() => attribute(presenter, 'data-pointer'));
    await expect.poll(() => attribute(follower, 'data-pointer'), { timeout: 10_000 }).toBe(pointer);
    await follower.waitForSelector(`${viewer} [data-testid="pointer"]`);

    // A third site joins late and gets the whole state at once, on a PC without WebGL (CPU rendering).
    const late = await joinAs(suzuki, withoutWebGl);
    expect(
      await late.evaluate(() => ['webgl2', 'webgl'].some((kind) => document.createElement('canvas').getContext(kind))),
    ).toBe(false);
    await expect.poll(() => attribute(late, 'data-series'), { timeout: 30_000 }).toBe(seriesUid);
    await expect.poll(() => attribute(late, 'data-image-index'), { timeout: 15_000 }).toBe('12');
    await expect.poll(() => attribute(late, 'data-voi')).toBe('40/400');
    await expect
      .poll(async () => Math.abs(Number(await attribute(late, 'data-zoom')) - presenterZoom))
      .toBeLessThan(0.02);
    await expect.poll(() => attribute(late, 'data-pointer')).toBe(pointer);
    await expect.poll(() => lengthAt(late), { timeout: 10_000 }).toBeCloseTo(presenterLength, 1);

    // Every site has loaded the series; the presenter sees that all are ready.
    await expect
      .poll(async () => (await attribute(presenter, 'data-ready-sites')).split(',').sort(), { timeout: 30_000 })
      .toEqual(['aoshima', 'kuroshio', 'nankai-univ']);
    await expect.poll(() => attribute(presenter, 'data-all-sites-ready')).toBe('true');

    // A follower looks away on its own and snaps back with one click.
    await late.locator(`${viewer} .viewport-frame`).focus();
    for (let step = 0; step < 3; step += 1) await late.keyboard.press('ArrowUp');
    await expect.poll(() => attribute(late, 'data-following')).toBe('false');
    await expect.poll(() => attribute(late, 'data-image-index')).toBe('9');
    expect(await attribute(presenter, 'data-image-index')).toBe('12');
    await late.click('[data-testid="snap-back"]');
    await expect.poll(() => attribute(late, 'data-following')).toBe('true');
    await expect.poll(() => attribute(late, 'data-image-index')).toBe('12');

    // Hand-off: the island doctor asks, the host grants, and the island now drives.
    await follower.click('[data-testid="request-presenter"]');
    await presenter.waitForSelector('[data-testid="grant-presenter"]');
    await presenter.click('[data-testid="grant-presenter"]');
    for (const page of [presenter, follower, late]) {
      await expect.poll(() => attribute(page, 'data-presenter-name'), { timeout: 10_000 }).toBe(sato.displayName);
    }
    await expect.poll(() => attribute(follower, 'data-is-presenter')).toBe('true');
    await follower.click(`${viewer} button[data-preset="lung"]`);
    for (const page of [presenter, late]) {
      await expect.poll(() => attribute(page, 'data-voi'), { timeout: 10_000 }).toBe('-600/1500');
    }
    // The host takes the role back.
    await presenter.click('[data-testid="take-presenter"]');
    await expect.poll(() => attribute(follower, 'data-presenter-name'), { timeout: 10_000 }).toBe(tanaka.displayName);
  });

  it('lets the host find the patient’s prior CT and share it into the call with its consent', async () => {
    onTestFailed(async () => console.error(await stack.logTails(60)));
    const [host, island] = sites.map((site) => site.page) as [Page, Page];
    // Site doctors have no study browser.
    expect(await island.locator('[data-testid="toggle-study-browser"]').count()).toBe(0);
    await host.click('[data-testid="toggle-study-browser"]');
    await host.fill('[data-testid="study-browser"] input[name="patientId"]', 'AO-2026-0142');
    await host.click('[data-testid="search-studies"]');
    const prior = host.locator(`[data-testid="study-matches"] tr[data-study-uid="${DEMO_PRIOR_STUDY_INSTANCE_UID}"]`);
    await prior.waitFor();
    // The Japanese name as the hospital wrote it (ISO 2022 IR 87 in the PACS).
    expect(await prior.locator('[data-testid="patient-name"]').textContent()).toBe('山田 太郎（やまだ たろう）');
    // The conference's own CT is listed as shared already.
    expect(await host.locator('[data-testid="study-matches"] [data-testid="share-study"]').count()).toBe(1);

    // Without the consent reference nothing is shared: the fields say what is missing.
    await prior.locator('[data-testid="share-study"]').click();
    const form = host.locator('[data-testid="share-form"]');
    await form.locator('[data-testid="confirm-share"]').click();
    await form.locator('[data-field-error="consent.documentNumber"]').waitFor();
    await form.locator('input[name="documentNumber"]').fill('IC-2026-0201');
    await form.locator('input[name="recordedBy"]').fill('佐藤 花子');
    await form.locator('input[name="recordedAt"]').fill('2026-11-30T10:00');
    await form.locator('[data-testid="confirm-share"]').click();
    await host.locator('[data-testid="study-shared"]').waitFor();

    // Every site lists the prior's series at once; the island opens nothing by itself.
    for (const page of [host, island]) {
      await expect
        .poll(() => page.locator(`${viewer} .series-list button[data-series-uid]`).count(), { timeout: 15_000 })
        .toBe(2);
    }
    const redis = await connectRedis(stack.redisUrl, () => undefined);
    try {
      const attached = (await new AuditLog(redis).recent(50)).find(
        (entry) => entry.action === 'session.case-attached' && entry.sessionId === DEMO_SESSION_ID,
      );
      expect(attached).toMatchObject({
        outcome: 'success',
        detail: {
          studyInstanceUids: [DEMO_PRIOR_STUDY_INSTANCE_UID],
          consent: { documentNumber: 'IC-2026-0201', recordedBy: '佐藤 花子' },
          duringSession: true,
        },
      });
    } finally {
      await redis.close();
    }
    // The new series opens for everyone through the presenter.
    const priorSeries = host.locator(`${viewer} .series-list button[data-series-uid]`).nth(1);
    const priorSeriesUid = (await priorSeries.getAttribute('data-series-uid')) ?? '';
    await priorSeries.click();
    await expect.poll(() => attribute(island, 'data-series'), { timeout: 30_000 }).toBe(priorSeriesUid);
  });

  it('keeps the view state from a signed-in socket that is not in the session', async () => {
    const host = sites[0]!.page;
    const redis = await connectRedis(stack.redisUrl, () => undefined);
    // A doctor of a hospital the demo conference does not invite.
    const outsider = await (async () => {
      await ensureSite(redis, 'yamanaka', '山中診療所', 'Yamanaka Clinic');
      return testAccount(redis, 'yamanaka-doctor', 'yamanaka', ['site-doctor']);
    })().finally(() => redis.close());
    const { token } = (await (await fetchPage(stack.webUrl, outsider, '/api/signaling-token')).json()) as {
      token: string;
    };
    const socket = io(stack.signalingUrl, { auth: { token }, transports: ['websocket'], reconnection: false });
    try {
      let received = 0;
      for (const name of ['jointRead:update', 'jointRead:state', 'jointRead:readiness'] as const) {
        socket.on(name, () => (received += 1));
      }
      const ask = (name: string, payload: unknown) =>
        socket.timeout(10_000).emitWithAck(name, payload) as Promise<{ ok: boolean; error?: { code: string } }>;
      expect(await ask('session:capabilities', { sessionId: DEMO_SESSION_ID })).toMatchObject({
        ok: false,
        error: { code: 'forbidden' },
      });
      expect((await ask('jointRead:state', {})).ok).toBe(false);
      expect((await ask('jointRead:change', { changes: [{ kind: 'pointer', pointer: null }] })).ok).toBe(false);
      // The presenter scrolls meanwhile (once its series is loaded): the outsider hears nothing of it.
      const loaded = async (page: Page) => {
        const [done, total] = (await attribute(page, 'data-loaded')).split('/');
        return total !== undefined && done === total;
      };
      await expect.poll(() => loaded(host), { timeout: 30_000 }).toBe(true);
      const before = Number(await attribute(host, 'data-image-index'));
      await host.locator(`${viewer} .viewport-frame`).focus();
      await host.keyboard.press('ArrowDown');
      await expect.poll(() => attribute(host, 'data-image-index')).toBe(String(before + 1));
      await expect
        .poll(() => attribute(sites[1]!.page, 'data-image-index'), { timeout: 10_000 })
        .toBe(String(before + 1));
      expect(received).toBe(0);
    } finally {
      socket.close();
    }
  });
});
