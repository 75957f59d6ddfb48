import type { Page } from 'playwright-core';
import { DEMO_SESSION_ID, demoConferenceAccounts } from '@telemed/domain';
import { joinCall, openHospitalBrowser, signIn, type HospitalBrowser } from '../../e2e/hospital-browser.ts';
import { launchThrowawayStack } from '../../stack/stack.ts';

/**
 * `npm run bench:sync`, browser level: three Chromium sites on loopback in the demo conference,
 * the hub presenting the demo CT (all sites loaded and ready first). The presenter scrolls one
 * image at a time with the keyboard; each step's latency is from the key press (in the
 * presenter's page) to the frame on which a follower shows that image (its viewer reports the
 * rendered image in `data-image-index`; the next animation frame counts). All pages share this machine's clock
 * (`performance.timeOrigin + performance.now()`).
 *
 * Baseline, same run: the same step on the presenter's own screen (key press → its own viewer
 * showing the image), i.e. the rendering path without the network. The ratio is what following
 * a presenter costs over showing the image oneself.
 */

const STEP_MS = Number(process.env.BENCH_SYNC_BROWSER_STEP_MS ?? 250);
const viewer = '[data-testid="joint-read"]';

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const round2 = (value: number) => Math.round(value * 100) / 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

declare global {
  interface Window {
    benchShown?: [number, number][];
    benchKeys?: number[];
  }
}

/** Records every image the viewer shows, with when (shared clock). */
async function recordShownImages(page: Page): Promise<void> {
  await page.evaluate((selector) => {
    const element = document.querySelector(selector)!;
    const now = () => performance.timeOrigin + performance.now();
    window.benchShown = [];
    // Taken at the next animation frame: the presenter's viewer reports the image as it asks
    // Cornerstone for it, a follower's once drawn; the frame after is on screen in both cases.
    new MutationObserver(() => {
      const index = Number(element.getAttribute('data-image-index'));
      requestAnimationFrame(() => window.benchShown!.push([index, now()]));
    }).observe(element, { attributes: true, attributeFilter: ['data-image-index'] });
    window.benchKeys = [];
    window.addEventListener('keydown', () => window.benchKeys!.push(now()), { capture: true });
  }, viewer);
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const stack = await launchThrowawayStack({ sfuWorkers: 1 });
const sites: HospitalBrowser[] = [];
try {
  for (const account of demoConferenceAccounts) {
    const site = await openHospitalBrowser({ label: account.username });
    sites.push(site);
    await signIn(site.page, stack.webUrl, account.username, account.password);
    await joinCall(site.page, stack.webUrl, DEMO_SESSION_ID);
    await site.page.waitForSelector(`${viewer}[data-viewer-ready="true"]`);
  }
  const [presenter, ...followers] = sites.map((site) => site.page) as [Page, ...Page[]];
  const series = presenter.locator(`${viewer} button[data-series-uid]`).first();
  await series.waitFor();
  await series.click();
  await waitFor(
    async () => (await presenter.locator(viewer).getAttribute('data-all-sites-ready')) === 'true',
    'every site to load the series',
  );
  const total = Number(((await presenter.locator(viewer).getAttribute('data-loaded')) ?? '0/0').split('/')[1]);
  for (const page of sites.map((site) => site.page)) await recordShownImages(page);
  await presenter.locator(`${viewer} .viewport-frame`).focus();

  // Down through the series and back up: one image per step.
  const steps: number[] = [];
  for (let index = 1; index < total; index += 1) steps.push(index);
  for (let index = total - 2; index >= 0; index -= 1) steps.push(index);
  console.log(`${sites.length} sites, ${total} images, ${steps.length} steps ${STEP_MS} ms apart …`);
  let current = 0;
  for (const target of steps) {
    await presenter.keyboard.press(target > current ? 'ArrowDown' : 'ArrowUp');
    current = target;
    await sleep(STEP_MS);
  }
  await sleep(1000);

  const keys = await presenter.evaluate(() => window.benchKeys ?? []);
  const latencies = async (page: Page) => {
    const shown = await page.evaluate(() => window.benchShown ?? []);
    const out: number[] = [];
    steps.forEach((target, step) => {
      const pressed = keys[step];
      if (pressed === undefined) return;
      const next = keys[step + 1] ?? Infinity;
      const seen = shown.find(([index, at]) => index === target && at >= pressed && at < next + 1000);
      if (seen) out.push(seen[1] - pressed);
    });
    return out;
  };
  const local = await latencies(presenter);
  const remote = (await Promise.all(followers.map(latencies))).flat();
  const figures = {
    sites: sites.length,
    steps: steps.length,
    step_ms: STEP_MS,
    follower_render_p50_ms: round2(percentile(remote, 50)),
    follower_render_p95_ms: round2(percentile(remote, 95)),
    presenter_own_render_p50_ms: round2(percentile(local, 50)),
    presenter_own_render_p95_ms: round2(percentile(local, 95)),
    follower_vs_own_p50_ratio: round2(percentile(remote, 50) / percentile(local, 50)),
    follower_vs_own_p95_ratio: round2(percentile(remote, 95) / percentile(local, 95)),
    follower_steps_seen_ratio: round2(remote.length / (steps.length * followers.length)),
  };
  console.log(JSON.stringify(figures));
} finally {
  await Promise.all(sites.map((site) => site.close()));
  await stack.stop();
}
