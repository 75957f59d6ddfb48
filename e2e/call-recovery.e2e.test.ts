import { execFileSync } from 'node:child_process';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { AuditLog, DEMO_SESSION_ID, connectRedis, demoConferenceAccounts, type RedisClient } from '@telemed/domain';
import { startEmulatedLink, type EmulatedLink } from '../stack/emulated-link.ts';
import { freeTcpPort } from '../stack/free-port.ts';
import { launchThrowawayStack, type Stack } from '../stack/stack.ts';
import {
  openRoom,
  openHospitalBrowser,
  playingRemoteVideos,
  signIn,
  type HospitalBrowser,
} from './hospital-browser.ts';

/**
 * A call that survives its signaling link going down, in real browsers. Each browser reaches
 * signaling through a TCP relay of its own (stack/emulated-link.ts on its own loopback address;
 * Chromium maps the signaling host name there), which the test cuts: every connection through it
 * closes and new ones are refused, as when an island's line drops. Media go straight to the SFU
 * and keep flowing.
 *
 * - A 5 s cut is bridged: the call stays, the same tiles (the same DOM elements) stay, nobody
 *   leaves or joins, the other side shows 再接続中 meanwhile, sound keeps arriving.
 * - A cut longer than the grace period: the other side is told that the participant left because
 *   the connection was lost; once the link is back, the browser says so too and rejoins by itself.
 */

const GRACE_MS = 20_000;
/** Four engineers' tests share two cores: joining can take a while. */
const JOIN_TIMEOUT_MS = 90_000;
const SIGNALING_HOST = 'signaling.test';
const [tanakaAccount, satoAccount] = demoConferenceAccounts.filter((account) =>
  ['tanaka', 'sato'].includes(account.username),
);

/** Marks every remote tile now on the page: a tile rebuilt (left, then joined) loses its mark. */
async function markTiles(page: Page): Promise<number> {
  return page.evaluate(() => {
    const tiles = [...document.querySelectorAll<HTMLElement>('figure[data-participant-id]:not(.local)')];
    for (const tile of tiles) (tile as HTMLElement & { recoveryMark?: true }).recoveryMark = true;
    return tiles.length;
  });
}

async function markedTiles(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      [...document.querySelectorAll<HTMLElement>('figure[data-participant-id]:not(.local)')].filter(
        (tile) => (tile as HTMLElement & { recoveryMark?: true }).recoveryMark,
      ).length,
  );
}

const inboundAudioBytes = (page: Page) =>
  page.evaluate(async () => (await window.telemedQa!.mediaByteCounts()).inboundAudioBytes);

/** iptables rules that drop the SFU's media ports (UDP and TCP, both ways) on this machine. */
function mediaBlackhole(firstPort: number, count: number) {
  const range = `${firstPort}:${firstPort + count - 1}`;
  const rules = ['udp', 'tcp'].flatMap((protocol) =>
    ['--dport', '--sport'].map((side) => ['INPUT', '-p', protocol, side, range, '-j', 'DROP']),
  );
  return {
    drop: () => rules.forEach((rule) => execFileSync('iptables', ['-I', ...rule])),
    restore: () =>
      rules.forEach((rule) => {
        try {
          execFileSync('iptables', ['-D', ...rule], { stdio: 'ignore' });
        } catch {
          // not there (never added)
        }
      }),
  };
}

/** Dropping packets needs root (and iptables); elsewhere that part is skipped, and says so. */
const mayDropPackets = (() => {
  try {
    execFileSync('iptables', ['-L', 'INPUT', '-n'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
})();

const tileOf = (page: Page, name: string) => page.locator(`figure:has(video[data-peer-name="${name}"])`);

/** What each page shows of the call, for a failure report. */
async function callReport(page: Page): Promise<string> {
  return page.evaluate(async () =>
    JSON.stringify({
      state: document.querySelector('main')?.dataset.conferenceState,
      tiles: [...document.querySelectorAll<HTMLElement>('figure[data-participant-id]')].map((tile) => ({
        ...tile.dataset,
        video: (() => {
          const video = tile.querySelector('video');
          return video ? { width: video.videoWidth, time: video.currentTime, src: !!video.srcObject } : null;
        })(),
      })),
      bytes: await window.telemedQa?.mediaByteCounts(),
    }),
  );
}

describe('a call that rides out a signaling outage', () => {
  let stack: Stack;
  let redis: RedisClient;
  const links: EmulatedLink[] = [];
  let tanaka: HospitalBrowser;
  let sato: HospitalBrowser;

  beforeAll(async () => {
    const relayPort = await freeTcpPort();
    stack = await launchThrowawayStack({
      env: {
        SIGNALING_PUBLIC_URL: `http://${SIGNALING_HOST}:${relayPort}`,
        SIGNALING_RESUME_GRACE_MS: String(GRACE_MS),
      },
    });
    redis = await connectRedis(stack.redisUrl, () => undefined);
    for (const host of ['127.0.0.2', '127.0.0.3']) {
      links.push(
        await startEmulatedLink({
          port: relayPort,
          host,
          target: { host: '127.0.0.1', port: stack.ports.signaling },
          profile: { name: 'hospital-lan', bitsPerSecond: 100e6, roundTripMs: 2 },
        }),
      );
    }
    const open = (label: string, host: string) =>
      openHospitalBrowser({
        label,
        viewport: { width: 960, height: 640 },
        extraArgs: [`--host-resolver-rules=MAP ${SIGNALING_HOST} ${host}`],
      });
    tanaka = await open('tanaka', links[0]!.host);
    sato = await open('sato', links[1]!.host);
    for (const [site, account] of [
      [tanaka, tanakaAccount!],
      [sato, satoAccount!],
    ] as const) {
      await signIn(site.page, stack.webUrl, account.username, account.password);
      await openRoom(site.page, stack.webUrl, DEMO_SESSION_ID);
      await site.page.click('[data-testid="join"]');
      await site.page.waitForSelector('main[data-conference-state="joined"]', { timeout: JOIN_TIMEOUT_MS });
    }
  });

  afterAll(async () => {
    await Promise.all([tanaka?.close(), sato?.close()]);
    for (const link of links) await link.close();
    await redis?.close();
    await stack?.stop();
  });

  /** On a failure: the services' last log lines (`lines` each) and what each page shows of the call. */
  function reportOnFailure(lines?: number): void {
    onTestFailed(async () => {
      console.error(await stack.logTails(lines));
      console.error(`tanaka: ${await callReport(tanaka.page)}\nsato: ${await callReport(sato.page)}`);
    });
  }

  /** Both sites see and hear each other again, in the tiles marked before, still in the call. */
  async function expectBothWaysInMarkedTiles(): Promise<void> {
    for (const [site, other] of [
      [tanaka, satoAccount!],
      [sato, tanakaAccount!],
    ] as const) {
      await expect
        .poll(async () => (await playingRemoteVideos(site.page)).map((video) => video.name), { timeout: 30_000 })
        .toEqual([other.displayName]);
      const before = await inboundAudioBytes(site.page);
      await expect.poll(() => inboundAudioBytes(site.page), { timeout: 10_000 }).toBeGreaterThan(before);
      expect(await markedTiles(site.page)).toBe(1);
      expect(await site.page.getAttribute('main', 'data-conference-state')).toBe('joined');
    }
  }

  it('bridges a 5 s cut: same tiles, nobody leaves or joins, sound keeps arriving', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    for (const [site, other] of [
      [tanaka, satoAccount!],
      [sato, tanakaAccount!],
    ] as const) {
      await expect
        .poll(async () => (await playingRemoteVideos(site.page)).map((video) => video.name), { timeout: 60_000 })
        .toEqual([other.displayName]);
    }
    expect(await markTiles(tanaka.page)).toBe(1);
    expect(await markTiles(sato.page)).toBe(1);
    const auditBefore = (await new AuditLog(redis).recent(1))[0]?.id;

    links[1]!.cut();
    const cutAt = Date.now();
    // Sato's side says it is reconnecting; Tanaka's shows Sato's tile as reconnecting.
    await sato.page.waitForSelector('[data-testid="reconnecting-banner"]', { timeout: 10_000 });
    await expect
      .poll(() => tileOf(tanaka.page, satoAccount!.displayName).getAttribute('data-reconnecting'), {
        timeout: 10_000,
      })
      .toBe('true');
    expect(await tanaka.page.locator('[data-testid="reconnecting-banner"]').count()).toBe(0);
    // Media do not go through signaling: both keep hearing each other during the cut.
    for (const site of [tanaka, sato]) {
      const before = await inboundAudioBytes(site.page);
      await expect.poll(() => inboundAudioBytes(site.page), { timeout: 4_000 }).toBeGreaterThan(before);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 5_000 - (Date.now() - cutAt))));
    links[1]!.restore();
    const restoredAt = Date.now();

    await sato.page.waitForSelector('[data-testid="reconnecting-banner"]', { state: 'detached', timeout: 20_000 });
    await expect
      .poll(() => tileOf(tanaka.page, satoAccount!.displayName).getAttribute('data-reconnecting'), {
        timeout: 10_000,
      })
      .toBe('false');
    console.log(`5 s signaling cut: resumed ${Date.now() - restoredAt} ms after the link came back`);
    for (const site of [tanaka, sato]) {
      expect(await site.page.getAttribute('main', 'data-conference-state')).toBe('joined');
      expect(await markedTiles(site.page)).toBe(1);
      expect(await site.page.locator('[data-testid="recovery-notice"]').count()).toBe(0);
      const before = await inboundAudioBytes(site.page);
      await expect.poll(() => inboundAudioBytes(site.page), { timeout: 5_000 }).toBeGreaterThan(before);
    }
    // Signaling suspended and resumed Sato; nobody left or joined.
    const since = [];
    for (const entry of await new AuditLog(redis).recent(50)) {
      if (entry.id === auditBefore) break;
      since.push(entry.action);
    }
    expect(since).toEqual(expect.arrayContaining(['conference.suspended', 'conference.resumed']));
    expect(since.filter((action) => action === 'conference.left' || action === 'conference.joined')).toEqual([]);
  });

  it('after a cut longer than the grace period: removed with a clear message on both sides, then back in', async () => {
    reportOnFailure();
    links[1]!.cut();
    const cutAt = Date.now();
    await tanaka.page.waitForSelector('[data-testid="participant-lost"]', { timeout: GRACE_MS + 15_000 });
    expect(await tanaka.page.textContent('[data-testid="participant-lost"]')).toBe(
      `${satoAccount!.displayName}さんは接続が途切れたため退出しました`,
    );
    expect(await tileOf(tanaka.page, satoAccount!.displayName).count()).toBe(0);
    console.log(`signaling cut beyond the grace: removed ${Date.now() - cutAt} ms after the cut`);
    links[1]!.restore();
    const restoredAt = Date.now();

    // Sato's browser finds its participant gone, says so, and joins again by itself.
    await sato.page.waitForSelector('[data-testid="rejoin-notice"]', { timeout: 20_000 });
    expect(await sato.page.textContent('[data-testid="rejoin-notice"]')).toMatch(
      /^接続が長く途切れたため、いったん退出(しました。再参加しています…|し、再参加しました。)$/,
    );
    await sato.page.waitForSelector('main[data-conference-state="joined"]', { timeout: JOIN_TIMEOUT_MS });
    await expect
      .poll(async () => (await playingRemoteVideos(tanaka.page)).map((video) => video.name), { timeout: 30_000 })
      .toEqual([satoAccount!.displayName]);
    await expect
      .poll(async () => (await playingRemoteVideos(sato.page)).map((video) => video.name), { timeout: 30_000 })
      .toEqual([tanakaAccount!.displayName]);
    console.log(`signaling cut beyond the grace: back in the call ${Date.now() - restoredAt} ms after the link`);
    const audit = await new AuditLog(redis).recent(30);
    expect(audit.find((entry) => entry.action === 'conference.left')?.detail).toMatchObject({
      reason: 'connection-lost',
    });
  });

  it('rebuilds the media transports in place: same tiles, media flowing both ways again', async () => {
    reportOnFailure(60);
    expect(await markTiles(tanaka.page)).toBe(1);
    expect(await markTiles(sato.page)).toBe(1);
    const startedAt = Date.now();
    await sato.page.evaluate(() => window.telemedQa!.rebuildMediaTransports!());
    await expectBothWaysInMarkedTiles();
    console.log(`transport rebuild: video and sound both ways again ${Date.now() - startedAt} ms after it started`);
  });

  it('finishes a rebuild cut short by the signaling link going down, once the link is back', async () => {
    reportOnFailure(60);
    expect(await markTiles(tanaka.page)).toBe(1);
    expect(await markTiles(sato.page)).toBe(1);
    // The link holds everything (as a line that goes silent, not one that resets): the rebuild's
    // requests wait until the socket's heartbeat gives up, then fail with the rebuild half done:
    // the old transports closed, no new ones. An island's 25 s outage runs into this.
    links[1]!.setLinkDown(true);
    await sato.page.evaluate(() => void window.telemedQa!.rebuildMediaTransports!());
    await sato.page.waitForSelector('[data-testid="reconnecting-banner"] >> text=再接続中', { timeout: 30_000 });
    links[1]!.setLinkDown(false);
    const restoredAt = Date.now();
    // Once resumed, the media are built again: both sides see and hear each other, same tiles.
    await expectBothWaysInMarkedTiles();
    console.log(`rebuild cut short by the link: media back ${Date.now() - restoredAt} ms after the link`);
  });

  it('lets a camera that was off during a rebuild be turned on again', async () => {
    onTestFailed(async () => console.error(await stack.logTails(60)));
    const tanakaSees = async () => (await playingRemoteVideos(tanaka.page)).map((video) => video.name);
    await sato.page.click('[data-testid="toggle-camera"]');
    await expect.poll(() => sato.page.getAttribute('[data-testid="toggle-camera"]', 'aria-pressed')).toBe('true');
    await sato.page.evaluate(() => window.telemedQa!.rebuildMediaTransports!());
    await expect.poll(tanakaSees, { timeout: 30_000 }).toEqual([]);
    // The camera had no producer after the rebuild: turning it on produces it anew.
    await sato.page.click('[data-testid="toggle-camera"]');
    await expect.poll(() => sato.page.getAttribute('[data-testid="toggle-camera"]', 'aria-pressed')).toBe('false');
    await expect.poll(tanakaSees, { timeout: 30_000 }).toEqual([satoAccount!.displayName]);
  });

  it.skipIf(!mayDropPackets)('restarts ICE when the media path drops, and the sound comes back', async () => {
    onTestFailed(async () => console.error(await stack.logTails(60)));
    // The SFU's media ports: one per worker (two on this machine at most; four are reserved).
    const blackhole = mediaBlackhole(stack.ports.media, 4);
    try {
      blackhole.drop();
      const cutAt = Date.now();
      // Chromium takes the path for disconnected after ~5 s without answers; the room then asks
      // signaling (still connected) for new ICE parameters.
      await expect
        .poll(async () => (await stack.logTails(200)).includes('ICE restarted'), { timeout: 20_000, interval: 500 })
        .toBe(true);
      console.log(`media cut: ICE restart asked ${Date.now() - cutAt} ms after the cut`);
    } finally {
      blackhole.restore();
    }
    const restoredAt = Date.now();
    for (const site of [tanaka, sato]) {
      const before = await inboundAudioBytes(site.page);
      await expect.poll(() => inboundAudioBytes(site.page), { timeout: 30_000 }).toBeGreaterThan(before);
      expect(await site.page.getAttribute('main', 'data-conference-state')).toBe('joined');
    }
    console.log(`media cut: sound back at both sites ${Date.now() - restoredAt} ms after the path`);
  });
});
