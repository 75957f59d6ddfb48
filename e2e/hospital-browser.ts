import { chromium, type Browser, type Page } from 'playwright-core';
import type {} from '@telemed/contract/qa-hooks';

/**
 * A hospital PC for tests and benchmarks: Debian's Chromium, headless, with a fake camera and
 * microphone (a test pattern and a beep), a fresh profile each time. The same two media flags
 * make `getDisplayMedia` answer at once with a fake 1280×720 screen (and a fake sound when
 * audio is asked for) instead of showing the picker: screen sharing needs no more flags.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  // Several "hospitals" share one test machine: keep background tabs' timers and media alive.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/**
 * Chromium checks a TURN server's certificate like a web site's: test browsers pin the stack's
 * private coturn's self-signed one (by its public key) so TURN over TLS works, and nothing else
 * is trusted that would not be.
 */
export function trustingTurnCertificate(stack: { turnCertificateSpki: string | null }): string[] {
  return stack.turnCertificateSpki ? [`--ignore-certificate-errors-spki-list=${stack.turnCertificateSpki}`] : [];
}

export interface HospitalBrowser {
  browser: Browser;
  page: Page;
  close(): Promise<void>;
}

/** An older hospital PC whose browser offers no WebGL at all: images must render on the CPU. */
export const withoutWebGl = ['--disable-webgl', '--disable-webgl2'];

export async function openHospitalBrowser(
  options: {
    language?: 'ja' | 'en';
    label?: string;
    extraArgs?: string[];
    /** A smaller window keeps many browsers on one test machine light. */
    viewport?: { width: number; height: number };
    /** Another Chromium binary, e.g. the link lab's wrapper that runs it in the lab's namespace. */
    executablePath?: string;
  } = {},
): Promise<HospitalBrowser> {
  const browser = await chromium.launch({
    executablePath: options.executablePath ?? CHROMIUM_PATH,
    headless: true,
    args: [...chromiumArgs, ...(options.extraArgs ?? [])],
  });
  const context = await browser.newContext({
    locale: options.language === 'en' ? 'en-US' : 'ja-JP',
    timezoneId: 'Asia/Tokyo',
    viewport: options.viewport ?? { width: 1280, height: 800 },
  });
  const page = await context.newPage();
  // The page's own complaints, for diagnosing a failed run (with E2E_BROWSER_CONSOLE=all, all it
  // logs, timed: how a recovery went step by step).
  page.on('console', (message) => {
    if (message.type() === 'error' || process.env.E2E_BROWSER_CONSOLE === 'all') {
      process.stderr.write(`[browser ${options.label ?? ''} ${new Date().toISOString()}] ${message.text()}\n`);
    }
  });
  page.on('pageerror', (error) => process.stderr.write(`[browser ${options.label ?? ''}] ${error.message}\n`));
  return { browser, page, close: () => browser.close() };
}

export async function signIn(page: Page, webUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${webUrl}/login`);
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForURL(`${webUrl}/sessions`), page.click('[data-testid="sign-in"]')]);
}

/** Opens the session's room and waits until its Join button can be pressed. */
export async function openRoom(page: Page, webUrl: string, sessionId: string): Promise<void> {
  await page.goto(`${webUrl}/sessions/${sessionId}`);
  await page.waitForSelector('[data-testid="join"]:not([disabled])');
}

/** Opens the session's room, presses Join and waits until the call is joined. */
export async function joinCall(page: Page, webUrl: string, sessionId: string): Promise<void> {
  await openRoom(page, webUrl, sessionId);
  await page.click('[data-testid="join"]');
  await page.waitForSelector('main[data-conference-state="joined"]');
}

/** The remote video tiles that are really playing: frames decoded and time advancing. */
export async function playingRemoteVideos(page: Page): Promise<{ name: string; site: string }[]> {
  return page.evaluate(async () => {
    const videos = [...document.querySelectorAll<HTMLVideoElement>('video[data-peer-name]')];
    const before = videos.map((video) => video.currentTime);
    await new Promise((resolve) => setTimeout(resolve, 700));
    return videos
      .filter((video, index) => video.videoWidth > 0 && video.currentTime > (before[index] ?? 0))
      .map((video) => ({ name: video.dataset.peerName ?? '', site: video.dataset.siteName ?? '' }));
  });
}

interface ScreenCaptures {
  telemedScreenCaptures?: MediaStream[];
}

/**
 * Keeps every stream the page's `getDisplayMedia` hands out (from the next navigation on), so
 * that `endScreenCaptures` can end them the way the browser's own "Stop sharing" bar does.
 */
export async function recordScreenCaptures(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const devices = navigator.mediaDevices;
    if (!devices?.getDisplayMedia) return;
    const capture = devices.getDisplayMedia.bind(devices);
    devices.getDisplayMedia = async (options) => {
      const stream = await capture(options);
      const recorded = window as ScreenCaptures;
      (recorded.telemedScreenCaptures ??= []).push(stream);
      return stream;
    };
  });
}

/** Ends the page's screen captures as the browser's "Stop sharing" bar does: the tracks end and say so. */
export async function endScreenCaptures(page: Page): Promise<number> {
  return page.evaluate(() => {
    const streams = (window as ScreenCaptures).telemedScreenCaptures ?? [];
    let ended = 0;
    for (const track of streams.flatMap((stream) => stream.getTracks())) {
      if (track.readyState === 'ended') continue;
      track.stop();
      track.dispatchEvent(new Event('ended'));
      ended += 1;
    }
    return ended;
  });
}
