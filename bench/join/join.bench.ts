import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { DEMO_SESSION_ID, demoConferenceAccounts } from '@telemed/domain';
import { openHospitalBrowser, openRoom, signIn, type HospitalBrowser } from '../../e2e/hospital-browser.ts';
import { launchThrowawayStack } from '../../stack/stack.ts';

/**
 * `npm run bench:join`: three sites press "Join" at once; for each, the time from its click to
 * the first decoded frame of a remote video. Five rounds. The baseline, measured in the same
 * run by the same browsers, is the time to open a plain page from a local HTTP server, so the
 * ratio stays meaningful on a shared, noisy machine.
 */

const ROUNDS = 5;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const round1 = (value: number) => Math.round(value * 10) / 10;

/** Arms the page: records the Join click and the first remote video frame, in page time. */
async function armJoinTimer(page: Page): Promise<void> {
  await page.evaluate(() => {
    const marks: { clickedAt?: number; firstFrameAt?: number } = {};
    (window as unknown as { joinMarks: typeof marks }).joinMarks = marks;
    document.querySelector('[data-testid="join"]')!.addEventListener(
      'click',
      () => {
        marks.clickedAt = performance.now();
      },
      { capture: true, once: true },
    );
    const poll = setInterval(() => {
      const playing = [...document.querySelectorAll<HTMLVideoElement>('video[data-peer-name]')].some(
        (video) => video.videoWidth > 0,
      );
      if (playing) {
        marks.firstFrameAt = performance.now();
        clearInterval(poll);
      }
    }, 5);
  });
}

async function joinToFirstFrameMs(page: Page): Promise<number> {
  const handle = await page.waitForFunction(
    () => {
      const marks = (window as unknown as { joinMarks: { clickedAt?: number; firstFrameAt?: number } }).joinMarks;
      return marks.clickedAt !== undefined && marks.firstFrameAt !== undefined
        ? marks.firstFrameAt - marks.clickedAt
        : null;
    },
    undefined,
    { timeout: 60_000, polling: 50 },
  );
  return (await handle.jsonValue()) as number;
}

async function main(): Promise<void> {
  const plainPage = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      '<!doctype html><html lang="ja"><head><title>baseline</title></head><body><p>基準ページ</p></body></html>',
    );
  });
  await new Promise<void>((resolve) => plainPage.listen(0, '127.0.0.1', resolve));
  const plainUrl = `http://127.0.0.1:${(plainPage.address() as AddressInfo).port}/`;

  const stack = await launchThrowawayStack();
  const sites: HospitalBrowser[] = [];
  try {
    for (const account of demoConferenceAccounts) {
      const site = await openHospitalBrowser({ label: account.username });
      sites.push(site);
      await signIn(site.page, stack.webUrl, account.username, account.password);
    }

    const baseline: number[] = [];
    const joins: number[][] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const site of sites) {
        const started = performance.now();
        await site.page.goto(`${plainUrl}?round=${round}`, { waitUntil: 'load' });
        baseline.push(performance.now() - started);
      }

      await Promise.all(sites.map((site) => openRoom(site.page, stack.webUrl, DEMO_SESSION_ID)));
      await Promise.all(sites.map((site) => armJoinTimer(site.page)));
      await Promise.all(sites.map((site) => site.page.click('[data-testid="join"]')));
      const perSite = await Promise.all(sites.map((site) => joinToFirstFrameMs(site.page)));
      joins.push(perSite);
      console.log(
        `round ${round + 1}: join → first remote frame ${perSite.map((ms) => `${Math.round(ms)} ms`).join(', ')}`,
      );
      // Everyone fully in before anyone leaves, so no join is cut short.
      await Promise.all(sites.map((site) => site.page.waitForSelector('main[data-conference-state="joined"]')));
      await Promise.all(sites.map((site) => site.page.click('[data-testid="leave"]')));
      await Promise.all(sites.map((site) => site.page.waitForSelector('main[data-conference-state="left"]')));
    }

    // Per round: when the slowest of the three sites saw its first remote frame.
    const allSitesSeeSomeone = joins.map((perSite) => Math.max(...perSite));
    const result = {
      sites: sites.length,
      rounds: ROUNDS,
      join_first_frame_median_ms: round1(median(allSitesSeeSomeone)),
      join_first_frame_per_site_median_ms: round1(median(joins.flat())),
      baseline_plain_page_median_ms: round1(median(baseline)),
      join_ratio: round1(median(allSitesSeeSomeone) / median(baseline)),
    };
    console.log(
      `median: every site sees a remote frame ${result.join_first_frame_median_ms} ms after pressing Join ` +
        `(baseline plain page ${result.baseline_plain_page_median_ms} ms, ratio ${result.join_ratio})`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await Promise.all(sites.map((site) => site.close()));
    await stack.stop();
    plainPage.close();
  }
}

await main();
