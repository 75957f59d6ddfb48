import type { Page } from 'playwright-core';
import { DEMO_SESSION_ID, demoConferenceAccounts } from '@telemed/domain';
import { audioContinuity, type AudioContinuity } from '../stack/audio-continuity.ts';
import type { IslandLinkProfile } from '../stack/island-link-profiles.ts';
import {
  createLinkLab,
  loopbackBridgeForwards,
  stackForwards,
  type LabStackPorts,
  type LinkLab,
} from '../stack/link-lab.ts';
import { launchThrowawayStack, type Stack } from '../stack/stack.ts';
import {
  CHROMIUM_PATH,
  joinCall,
  openHospitalBrowser,
  signIn,
  trustingTurnCertificate,
  type HospitalBrowser,
} from './hospital-browser.ts';
import {
  audioSamples,
  jointReadConvergence,
  percentile,
  transportPaths,
  watchPeerConnections,
  type TransportPath,
} from './island-link-probes.ts';

/**
 * The island-link scene shared by e2e/island-links.e2e.test.ts and `npm run bench:links`: the
 * system on this machine, the hub (田中, presenting the demo CT) in a Chromium here, unshaped,
 * and the island (佐藤) in a Chromium inside the link lab, everything it sends and receives
 * going through the impairment relay. `measure` puts a profile on the island's link, has the
 * island join again over it and takes the figures.
 */

const viewer = '[data-testid="joint-read"]';
const [hubAccount, islandAccount] = demoConferenceAccounts as [
  (typeof demoConferenceAccounts)[number],
  (typeof demoConferenceAccounts)[number],
];
const SFU_WORKERS = 1;

export interface ProfileFigures {
  profile: string;
  joined: boolean;
  joinMs: number;
  /** Join pressed → the first real audio from the hub. */
  firstAudioMs: number | null;
  paths: TransportPath[];
  convergenceP50Ms: number;
  convergenceP95Ms: number;
  /** Steps of the presenter the follower showed. */
  stepsSeenRatio: number;
  audio: AudioContinuity;
  /** Remote videos playing at the island at the end. */
  videosPlaying: number;
  /** What the relay did while the joint read was measured, towards the island (`down`) and from it (`up`). */
  link: { downKbps: number; upKbps: number; dropped: { down: Record<string, number>; up: Record<string, number> } };
}

export interface IslandLinkScene {
  stack: Stack;
  lab: LinkLab;
  hub: Page;
  island: Page;
  /** Puts `profile` on the link and measures a join and a joint read over it. */
  measure(profile: IslandLinkProfile, options?: { convergenceSteps?: number }): Promise<ProfileFigures>;
  /** The island's audio continuity from `since` on, cuts excluded. */
  audioSince(since: number, cuts: { from: number; to: number }[]): Promise<AudioContinuity>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

const attribute = async (page: Page, name: string) => (await page.locator(viewer).getAttribute(name)) ?? '';

/** Every image of the series loaded and the viewer on the presenter's image. */
async function viewerReady(page: Page, timeoutMs: number): Promise<void> {
  await page.waitForSelector(`${viewer}[data-viewer-ready="true"]`, { timeout: timeoutMs });
  await waitFor(
    async () => {
      const [done, total] = (await attribute(page, 'data-loaded')).split('/');
      return Number(total) > 0 && done === total;
    },
    'the series to load',
    timeoutMs,
  );
}

export async function openIslandLinkScene(): Promise<IslandLinkScene> {
  const browsers: HospitalBrowser[] = [];
  const lab = await createLinkLab({ chromium: CHROMIUM_PATH });
  let stack: Stack | undefined;
  let frontPorts: number[] = [];
  let trustTurn: string[] = [];
  const close = async () => {
    await Promise.all(browsers.map((browser) => browser.close().catch(() => undefined)));
    await stack?.stop();
    await lab.close();
  };
  try {
    stack = await launchThrowawayStack({ sfuWorkers: SFU_WORKERS, env: { SFU_EXTRA_LISTEN_IPS: lab.serverAddress } });
    const ports: LabStackPorts = stack.ports;
    // The private coturn (when the stack runs one) listens on loopback only: bridged to the veth.
    await lab.bridgeLoopback(loopbackBridgeForwards(ports));
    await lab.startRelay(stackForwards(ports, SFU_WORKERS, lab.serverAddress), { name: 'unshaped', roundTripMs: 0 }, 7);
    // Web, signaling and TURN over TLS: what a TCP-443-only firewall lets through (all three on
    // 443 in production, behind the hospital's HTTPS proxy or as the TURN server's TLS port).
    frontPorts = [ports.web, ports.signaling, ...(ports.turnTls ? [ports.turnTls] : [])];
    // Test browsers pin the private coturn's self-signed certificate for TURN over TLS.
    trustTurn = trustingTurnCertificate(stack);
    const webUrl = stack.webUrl;
    const open = async (account: typeof hubAccount, inLab: boolean) => {
      const site = await openHospitalBrowser({
        label: inLab ? 'island' : 'hub',
        viewport: { width: 1000, height: 700 },
        extraArgs: trustTurn,
        ...(inLab ? { executablePath: lab.chromiumPath } : {}),
      });
      browsers.push(site);
      await watchPeerConnections(site.page);
      await signIn(site.page, webUrl, account.username, account.password);
      await joinCall(site.page, webUrl, DEMO_SESSION_ID);
      await site.page.waitForSelector(`${viewer}[data-viewer-ready="true"]`, { timeout: 60_000 });
      return site.page;
    };
    const hub = await open(hubAccount, false);
    const island = await open(islandAccount, true);
    // The hub presents the case's series; both load it over an unshaped link first.
    const series = hub.locator(`${viewer} button[data-series-uid]`).first();
    await series.waitFor();
    await series.click();
    await waitFor(async () => (await attribute(hub, 'data-is-presenter')) === 'true', 'the hub to present', 15_000);
    await viewerReady(hub, 60_000);
    await viewerReady(island, 60_000);
    const scene: IslandLinkScene = {
      stack,
      lab,
      hub,
      island,
      async audioSince(since, cuts) {
        const samples = (await audioSamples(island)).filter((sample) => sample.at >= since);
        return audioContinuity(samples, { excluded: cuts });
      },
      async measure(profile, options = {}) {
        await lab.applyProfile(profile, frontPorts);
        // Join again over this link: leave (unless the last profile left it failed), then press join and time it.
        if ((await island.getAttribute('main', 'data-conference-state')) === 'joined') {
          await island.click('[data-testid="leave"]');
          await island.waitForSelector('main[data-conference-state="left"]');
        }
        const pressed = Date.now();
        await island.click('[data-testid="join"]');
        await island
          .waitForSelector('main[data-conference-state="joined"], main[data-conference-state="failed"]', {
            timeout: 60_000,
          })
          .catch(() => undefined);
        const joined = (await island.getAttribute('main', 'data-conference-state')) === 'joined';
        const joinMs = Date.now() - pressed;
        if (!joined) {
          return {
            profile: profile.name,
            joined,
            joinMs,
            firstAudioMs: null,
            paths: [],
            convergenceP50Ms: Number.NaN,
            convergenceP95Ms: Number.NaN,
            stepsSeenRatio: 0,
            audio: { longestGapMs: Number.NaN, longestGapAt: null, concealmentRatio: Number.NaN, firstAudioAt: null },
            videosPlaying: 0,
            link: { downKbps: 0, upKbps: 0, dropped: { down: {}, up: {} } },
          };
        }
        // First audio: real samples arriving from the hub (up to 30 s).
        let firstAudioMs: number | null = null;
        await waitFor(
          async () => {
            const { firstAudioAt } = await scene.audioSince(pressed, []);
            if (firstAudioAt !== null) firstAudioMs = firstAudioAt - pressed;
            return firstAudioAt !== null;
          },
          'audio from the hub',
          30_000,
        ).catch(() => undefined);
        const paths = await transportPaths(island);
        // The viewer comes back with the call; the series loads again (from the browser's cache if it can).
        await viewerReady(island, 120_000);
        const audioFrom = Date.now();
        const before = await lab.stats();
        const steps = options.convergenceSteps ?? 20;
        const latencies = await jointReadConvergence(hub, island, {
          steps,
          stepMs: Math.max(400, profile.link.roundTripMs + 300),
        });
        const audio = await scene.audioSince(audioFrom, []);
        const after = await lab.stats();
        const seconds = (Date.now() - audioFrom) / 1000;
        const dropped = (direction: 'up' | 'down') =>
          Object.fromEntries(
            Object.entries(after[direction].dropped).map(([reason, count]) => [
              reason,
              count - before[direction].dropped[reason as keyof typeof before.up.dropped],
            ]),
          );
        const link = {
          downKbps: Math.round(((after.down.bytes - before.down.bytes) * 8) / seconds / 1000),
          upKbps: Math.round(((after.up.bytes - before.up.bytes) * 8) / seconds / 1000),
          dropped: { down: dropped('down'), up: dropped('up') },
        };
        const videos = await island.evaluate(
          () =>
            [...document.querySelectorAll<HTMLVideoElement>('video[data-peer-name]')].filter((v) => v.videoWidth > 0)
              .length,
        );
        return {
          profile: profile.name,
          joined,
          joinMs,
          firstAudioMs,
          paths,
          convergenceP50Ms: percentile(latencies, 50),
          convergenceP95Ms: percentile(latencies, 95),
          stepsSeenRatio: latencies.length / steps,
          audio,
          videosPlaying: videos,
          link,
        };
      },
      close,
    };
    return scene;
  } catch (error) {
    const tails = stack ? await stack.logTails(40) : '';
    await close();
    throw new Error(`${(error as Error).message}\n${tails}`, { cause: error });
  }
}
