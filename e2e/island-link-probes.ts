import type { Page } from 'playwright-core';
import type { AudioSample } from '../stack/audio-continuity.ts';

/**
 * What the island-link e2e and `npm run bench:links` read from a site's page: the WebRTC path
 * its transports use, its inbound audio every 250 ms, and when its joint-read viewer shows each
 * image. Installed before the page loads (an init script): the page's RTCPeerConnections are
 * remembered as mediasoup-client creates them, so nothing in the app is changed for the tests.
 */

declare global {
  interface Window {
    labPeerConnections?: RTCPeerConnection[];
    labAudioSamples?: AudioSample[];
    labShownImages?: [number, number][];
    labKeyPresses?: number[];
  }
}

/** Remembers the page's peer connections and samples its inbound audio every 250 ms (from the next navigation on). */
export async function watchPeerConnections(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    const connections: RTCPeerConnection[] = [];
    window.labPeerConnections = connections;
    window.RTCPeerConnection = class extends Native {
      constructor(configuration?: RTCConfiguration) {
        super(configuration);
        connections.push(this);
      }
    };
    window.labAudioSamples = [];
    setInterval(() => {
      const open = connections.filter((connection) => connection.connectionState !== 'closed');
      if (open.length === 0) return;
      void Promise.all(open.map((connection) => connection.getStats())).then((reports) => {
        let totalSamplesReceived = 0;
        let concealedSamples = 0;
        for (const report of reports) {
          report.forEach(
            (entry: { type: string; kind?: string; totalSamplesReceived?: number; concealedSamples?: number }) => {
              if (entry.type !== 'inbound-rtp' || entry.kind !== 'audio') return;
              totalSamplesReceived += entry.totalSamplesReceived ?? 0;
              concealedSamples += entry.concealedSamples ?? 0;
            },
          );
        }
        window.labAudioSamples!.push({
          at: performance.timeOrigin + performance.now(),
          totalSamplesReceived,
          concealedSamples,
        });
      });
    }, 250);
  });
}

/** The path one transport's selected candidate pair uses. */
export interface TransportPath {
  /** `udp`, `tcp`, or `turn-udp` / `turn-tcp` / `turn-tls` through a relay candidate. */
  path: string;
  localCandidateType: string;
  remoteAddress: string;
  remotePort: number;
}

/** The paths of the page's connected transports (one per connected RTCPeerConnection). */
export async function transportPaths(page: Page): Promise<TransportPath[]> {
  return page.evaluate(async () => {
    const paths: TransportPath[] = [];
    for (const connection of window.labPeerConnections ?? []) {
      if (connection.connectionState !== 'connected') continue;
      const stats = await connection.getStats();
      const byId = new Map<string, Record<string, unknown>>();
      stats.forEach((entry: Record<string, unknown> & { id: string }) => byId.set(entry.id, entry));
      const transport = [...byId.values()].find((entry) => entry.type === 'transport' && entry.selectedCandidatePairId);
      const pair = transport ? byId.get(transport.selectedCandidatePairId as string) : undefined;
      if (!pair) continue;
      const local = byId.get(pair.localCandidateId as string) ?? {};
      const remote = byId.get(pair.remoteCandidateId as string) ?? {};
      const relayed = local.candidateType === 'relay';
      paths.push({
        path: relayed ? `turn-${String(local.relayProtocol ?? 'udp')}` : String(remote.protocol ?? local.protocol),
        localCandidateType: String(local.candidateType),
        remoteAddress: String(remote.address ?? remote.ip ?? ''),
        remotePort: Number(remote.port ?? 0),
      });
    }
    return paths;
  });
}

/** The inbound audio samples recorded so far (wall-clock times). */
export async function audioSamples(page: Page): Promise<AudioSample[]> {
  return page.evaluate(() => window.labAudioSamples ?? []);
}

const viewer = '[data-testid="joint-read"]';

/**
 * Records, with wall-clock times, every image the joint-read viewer shows (on the next
 * animation frame, as bench/sync/browser-render.ts does) and every key press.
 */
export async function recordShownImages(page: Page): Promise<void> {
  await page.evaluate((selector) => {
    const element = document.querySelector(selector)!;
    const now = () => performance.timeOrigin + performance.now();
    window.labShownImages = [];
    new MutationObserver(() => {
      const index = Number(element.getAttribute('data-image-index'));
      requestAnimationFrame(() => window.labShownImages!.push([index, now()]));
    }).observe(element, { attributes: true, attributeFilter: ['data-image-index'] });
    window.labKeyPresses = [];
    window.addEventListener('keydown', () => window.labKeyPresses!.push(now()), { capture: true });
  }, viewer);
}

/**
 * The presenter scrolls `steps` images, one every `stepMs`, down from the image it is on and
 * back; returns for each step how long after the presenter's own screen the follower showed
 * that image (ms), for the steps both showed: "follower equals presenter within …".
 */
export async function jointReadConvergence(
  presenter: Page,
  follower: Page,
  options: { steps: number; stepMs: number },
): Promise<number[]> {
  await recordShownImages(presenter);
  await recordShownImages(follower);
  const start = Number(await presenter.locator(viewer).getAttribute('data-image-index'));
  const total = Number(((await presenter.locator(viewer).getAttribute('data-loaded')) ?? '0/0').split('/')[1]);
  await presenter.locator(`${viewer} .viewport-frame`).focus();
  const targets: number[] = [];
  let current = start;
  let direction = current + 1 < total ? 1 : -1;
  for (let step = 0; step < options.steps; step += 1) {
    if (current + direction < 0 || current + direction >= total) direction = -direction;
    current += direction;
    targets.push(current);
    await presenter.keyboard.press(direction > 0 ? 'ArrowDown' : 'ArrowUp');
    await new Promise((resolve) => setTimeout(resolve, options.stepMs));
  }
  // The last steps arriving over a slow link.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const keys = await presenter.evaluate(() => window.labKeyPresses ?? []);
  const ownShown = await presenter.evaluate(() => window.labShownImages ?? []);
  const shown = await follower.evaluate(() => window.labShownImages ?? []);
  const latencies: number[] = [];
  targets.forEach((target, step) => {
    const pressed = keys[step];
    if (pressed === undefined) return;
    // From the presenter's own screen showing the image (its local rendering is not the link's).
    const own = ownShown.find(([index, at]) => index === target && at >= pressed);
    const seen = shown.find(([index, at]) => index === target && at >= pressed);
    if (own && seen) latencies.push(Math.max(0, seen[1] - own[1]));
  });
  return latencies;
}

export const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
