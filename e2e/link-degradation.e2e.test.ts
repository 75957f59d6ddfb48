import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { QaLinkSample } from '@telemed/contract';
import {
  AccountStore,
  AuditLog,
  SessionStore,
  connectRedis,
  type RedisClient,
  type SiteLinkProfile,
} from '@telemed/domain';
import { SfuClient } from '../signaling/src/sfu-client.ts';
import { launchThrowawayStack, type Stack } from '../stack/stack.ts';
import { api, testAccount } from './api-client.ts';
import { openHospitalBrowser, openRoom, signIn, type HospitalBrowser } from './hospital-browser.ts';

/**
 * Degrading in order, in real Chromium on a real stack, driven by synthetic quality samples fed
 * through the room's QA hook (the link lab proves the same under shaped links): a coordinator
 * sets Kuroshio's link to satellite and its camera never sends its top layer; the host's link
 * steps down in the fixed order (everyone else's video lowered, paused, … audio only) with the
 * banner, while its voices keep arriving; the others see its tile as audio only; a sender whose
 * camera nobody receives stops its upper layers (its browser and the SFU agree); and after
 * enough good samples everything climbs back.
 */

const quiet = pino({ level: 'silent' });

const people = [
  { username: 'tanaka', password: 'tanaka-demo-2026', displayName: '田中 一郎' },
  { username: 'sato', password: 'sato-demo-2026', displayName: '佐藤 花子' },
  { username: 'suzuki', password: 'suzuki-demo-2026', displayName: '鈴木 健' },
];

const bad: QaLinkSample = { availableIncomingKbps: null, lossPercent: 20, roundTripTimeMs: 300, score: 3 };
const good: QaLinkSample = { availableIncomingKbps: null, lossPercent: 0, roundTripTimeMs: 40, score: 10 };

describe('degrading in a fixed order and telling the user', () => {
  let stack: Stack;
  let redis: RedisClient;
  let sfu: SfuClient;
  let sessionId = '';
  const browsers = new Map<string, HospitalBrowser>();
  const page = (username: string) => browsers.get(username)!.page;

  const participantIds = async (): Promise<Map<string, string>> => {
    const entries = await redis.hGetAll(`conference:${sessionId}:participants`);
    return new Map(
      Object.values(entries).map((value) => {
        const { participant } = JSON.parse(value) as { participant: { participantId: string; displayName: string } };
        return [participant.displayName, participant.participantId];
      }),
    );
  };
  const mediaOf = async (participantId: string) => {
    const stats = await sfu.request('session:media', { sessionId, detail: true });
    return stats.participantMedia?.find((one) => one.participantId === participantId);
  };
  const feed = (username: string, sample: QaLinkSample) =>
    page(username).evaluate((one) => window.telemedQa!.feedLinkSample!(one), sample);
  const sendLayer = (username: string) => page(username).evaluate(() => window.telemedQa!.cameraSendLayer!());
  const inboundAudio = (username: string) =>
    page(username).evaluate(async () => (await window.telemedQa!.mediaByteCounts()).inboundAudioBytes);

  beforeAll(async () => {
    stack = await launchThrowawayStack({ sfuWorkers: 1 });
    redis = await connectRedis(stack.redisUrl, () => undefined);
    const host = await new AccountStore(redis, quiet).findByUsername('tanaka');
    const now = Date.now();
    const { session } = await new SessionStore(redis, quiet).create(
      {
        title: '回線劣化の確認',
        startsAt: new Date(now - 10 * 60_000).toISOString(),
        endsAt: new Date(now + 3 * 3600_000).toISOString(),
        invitedSiteIds: ['aoshima', 'kuroshio'],
        allowDoubleBooking: true,
      },
      host!,
    );
    sessionId = session.id;
    sfu = new SfuClient({ url: stack.sfuRpcUrl, secret: stack.secrets.sfuRpc, logger: quiet });
    await sfu.ready();
  });

  afterAll(async () => {
    await Promise.all([...browsers.values()].map((browser) => browser.close()));
    sfu?.close();
    await redis?.close();
    await stack?.stop();
  });

  it('lets a coordinator, and nobody else, set a site’s link profile, audited', async () => {
    const coordinator = await testAccount(redis, 'tanaka', 'nankai-univ', ['coordinator']);
    const siteDoctor = await testAccount(redis, 'suzuki', 'kuroshio', ['site-doctor']);
    const satellite: SiteLinkProfile = { kind: 'satellite' };
    expect(await api(stack.webUrl, siteDoctor, 'PUT', '/api/v1/sites/kuroshio/link-profile', satellite)).toMatchObject({
      status: 403,
    });
    expect(
      await api(stack.webUrl, coordinator, 'PUT', '/api/v1/sites/kuroshio/link-profile', { kind: 'custom', upKbps: 1 }),
    ).toMatchObject({ status: 400 });
    expect(await api(stack.webUrl, coordinator, 'PUT', '/api/v1/sites/kuroshio/link-profile', satellite)).toMatchObject(
      { status: 200, body: satellite },
    );
    expect(await api(stack.webUrl, siteDoctor, 'GET', '/api/v1/sites/kuroshio/link-profile')).toMatchObject({
      status: 200,
      body: satellite,
    });
    const audit = (await new AuditLog(redis).recent(20)).filter((entry) => entry.action === 'site.link-profile');
    expect(audit.map((entry) => entry.outcome).sort()).toEqual(['denied', 'failure', 'success']);
  });

  it('brings three sites into one call; the satellite site never sends its top layer', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    for (const person of people) {
      const browser = await openHospitalBrowser({ label: person.username, viewport: { width: 1100, height: 760 } });
      browsers.set(person.username, browser);
      await signIn(browser.page, stack.webUrl, person.username, person.password);
      await openRoom(browser.page, stack.webUrl, sessionId);
    }
    await Promise.all([...browsers.values()].map(({ page: one }) => one.click('[data-testid="join"]')));
    // Three Chromiums on two shared cores join slowly.
    for (const { page: one } of browsers.values()) {
      await one.waitForSelector('main[data-conference-state="joined"][data-link-level]', { timeout: 120_000 });
    }
    await expect.poll(async () => (await participantIds()).size, { timeout: 30_000 }).toBe(3);
    // The chat panel hidden: the tiles get the window (all on screen, so all received).
    for (const { page: one } of browsers.values()) {
      await one.click('[data-testid="toggle-side-panel"]');
      await one.waitForSelector('[data-testid="side-panel"]', { state: 'detached' });
    }
    // Satellite: 1 Mbit/s up carries the voice and the two lower layers only, whatever the others want.
    await expect.poll(async () => (await sendLayer('suzuki')) ?? 99, { timeout: 20_000 }).toBeLessThanOrEqual(1);
    // The SFU holds what it sends the satellite site, and asks of it, to the same 1 Mbit/s; the
    // others' links are not capped.
    const ids = await participantIds();
    const caps = async (name: string) => {
      const media = await mediaOf(ids.get(name)!);
      return { down: media?.downlinkCapBitrate, up: media?.uplinkCapBitrate };
    };
    expect(await caps(people[2]!.displayName)).toEqual({ down: 1_000_000, up: 1_000_000 });
    expect(await caps(people[0]!.displayName)).toEqual({ down: null, up: null });
  });

  it('steps down in order with the banner, keeps the voices, shows the others an audio-only tile, and recovers', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    const ids = await participantIds();
    const tanakaId = ids.get('田中 一郎')!;
    const tanaka = page('tanaka');
    onTestFailed(async () =>
      console.error(
        'tanaka tiles',
        await tanaka.evaluate(() =>
          [...document.querySelectorAll('figure[data-participant-id]')].map((tile) => ({
            ...(tile as HTMLElement).dataset,
            top: tile.getBoundingClientRect().top,
          })),
        ),
      ),
    );
    // Before: Tanaka receives the cameras his tiles show (on screen: scrolled to the top).
    const receivingVideos = async () =>
      (await mediaOf(tanakaId))?.consumers.filter((one) => one.kind === 'video' && !one.paused).length ?? 0;
    for (const { page: one } of browsers.values()) await one.evaluate(() => window.scrollTo(0, 0));
    await expect.poll(receivingVideos, { timeout: 30_000 }).toBeGreaterThan(0);

    const levels: string[] = [];
    for (let sample = 0; sample < 16; sample++) {
      const level = await feed('tanaka', bad);
      if (levels.at(-1) !== level) levels.push(level);
      if (level === 'others-reduced') {
        expect(await tanaka.getAttribute('[data-testid="link-banner"]', 'data-link-notice')).toBe('reduced');
      }
    }
    expect(levels).toEqual(['full', 'others-reduced', 'others-paused', 'presenter-reduced', 'audio-only']);
    await tanaka.waitForSelector('main[data-link-level="audio-only"]');
    const banner = tanaka.locator('[data-testid="link-banner"]');
    expect(await banner.getAttribute('data-link-notice')).toBe('video-paused');
    expect(await banner.textContent()).toContain('通信状態が悪いため、音声を優先して映像を一時停止しています');

    // The SFU forwards Tanaka no video, and his tiles show still avatars, held back by the link.
    await expect.poll(receivingVideos, { timeout: 15_000 }).toBe(0);
    await expect
      .poll(() => tanaka.locator('figure[data-participant-id][data-link-held-back="true"]').count(), {
        timeout: 10_000,
      })
      .toBeGreaterThan(0);
    // His voices keep arriving.
    const before = await inboundAudio('tanaka');
    await expect.poll(() => inboundAudio('tanaka'), { timeout: 10_000 }).toBeGreaterThan(before + 2_000);

    // The others see Tanaka's tile as audio only, and his camera is no longer sent.
    for (const other of ['sato', 'suzuki']) {
      await page(other).waitForSelector(`figure[data-participant-id="${tanakaId}"][data-link-level="audio-only"]`, {
        timeout: 15_000,
      });
      expect(
        await page(other).locator(`figure[data-participant-id="${tanakaId}"] [data-testid="peer-audio-only"]`).count(),
      ).toBe(1);
    }
    await expect
      .poll(async () => (await mediaOf(tanakaId))?.producers.find((one) => one.source === 'camera')?.paused, {
        timeout: 10_000,
      })
      .toBe(true);

    // Good samples: one level back after each hold, never faster, until full again.
    const climbs: string[] = [];
    for (let sample = 0; sample < 30 && climbs.at(-1) !== 'full'; sample++) {
      const level = await feed('tanaka', good);
      if (climbs.at(-1) !== level) climbs.push(level);
    }
    expect(climbs).toEqual(['audio-only', 'presenter-reduced', 'others-paused', 'others-reduced', 'full']);
    await tanaka.waitForSelector('main[data-link-level="full"]');
    expect(await tanaka.locator('[data-testid="link-banner"]').count()).toBe(0);
    await expect.poll(receivingVideos, { timeout: 15_000 }).toBeGreaterThan(0);
    await page('sato').waitForSelector(`figure[data-participant-id="${tanakaId}"][data-link-level="full"]`, {
      timeout: 15_000,
    });
  });

  it('stops the upper layers of a camera nobody receives, at the sender and at the SFU', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    const ids = await participantIds();
    const satoId = ids.get('佐藤 花子')!;
    /** The highest layer Tanaka's browser asks the SFU for of Sato's camera (null: not received). */
    const wanted = async () => {
      const layers = ((await mediaOf(ids.get('田中 一郎')!))?.consumers ?? [])
        .filter((one) => one.producerParticipantId === satoId && one.source === 'camera' && !one.paused)
        .map((one) => one.preferredSpatialLayer ?? 0);
      return layers.length ? Math.max(...layers) : null;
    };
    // Tanaka pins Sato large in speaker view: Sato sends what that tile wants (an upper layer
    // when the machine keeps up; the invariant is checked either way).
    const tanaka = page('tanaka');
    await tanaka.click('[data-testid="layout-speaker"]');
    await tanaka.click(`figure[data-participant-id="${satoId}"] [data-testid="pin"]`);
    await tanaka.evaluate(() => window.scrollTo(0, 0));
    await expect.poll(async () => (await wanted()) ?? -1, { timeout: 15_000 }).toBeGreaterThanOrEqual(0);
    await expect.poll(async () => (await sendLayer('sato')) === (await wanted()), { timeout: 15_000 }).toBe(true);
    console.log('Sato sends up to layer', await sendLayer('sato'), 'for Tanaka’s pinned tile');

    // Both receivers' links fall to audio only: nobody receives Sato's camera.
    for (const receiver of ['tanaka', 'suzuki']) {
      for (let sample = 0; sample < 16; sample++) await feed(receiver, bad);
      await page(receiver).waitForSelector('main[data-link-level="audio-only"]');
    }
    await expect.poll(() => sendLayer('sato'), { timeout: 15_000 }).toBe(0);
    // The SFU sees only the lowest stream arriving.
    await expect
      .poll(async () => (await mediaOf(satoId))?.producers.find((one) => one.source === 'camera')?.activeLayers, {
        timeout: 30_000,
        interval: 1_000,
      })
      .toBe(1);
    // Tanaka's link recovers: the sender sends up to the layer his tile wants again. (He stepped
    // down right after climbing back to full in the test before: a flap, so each climb now waits
    // twice as long.)
    for (let sample = 0; sample < 40 && (await feed('tanaka', good)) !== 'full'; sample++);
    await tanaka.waitForSelector('main[data-link-level="full"]');
    await expect.poll(async () => (await wanted()) ?? -1, { timeout: 15_000 }).toBeGreaterThanOrEqual(0);
    await expect.poll(async () => (await sendLayer('sato')) === (await wanted()), { timeout: 15_000 }).toBe(true);
  });
});
