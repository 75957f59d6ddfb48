import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { ConsumerMediaStats } from '@telemed/contract';
import { AccountStore, AuditLog, SessionStore, connectRedis, type RedisClient } from '@telemed/domain';
import { SfuClient } from '../signaling/src/sfu-client.ts';
import { launchThrowawayStack, type Stack } from '../stack/stack.ts';
import { testAccount } from './api-client.ts';
import {
  endScreenCaptures,
  openHospitalBrowser,
  openRoom,
  recordScreenCaptures,
  signIn,
  type HospitalBrowser,
} from './hospital-browser.ts';

/**
 * The call's media with five sites in real browsers: a screen shared and seen by the others,
 * ended from the browser's own "stop sharing"; the host's grid paged with last-N = 2, checked
 * against the consumers the SFU actually pauses; speaker view whose thumbnails get the lowest
 * simulcast layer at the SFU; the quality indicator and the host's media stats. Five Chromiums
 * on two cores: small windows, one call for all the checks, generous timeouts.
 */

const quiet = pino({ level: 'silent' });

interface Site {
  username: string;
  password: string;
  displayName: string;
  browser: HospitalBrowser;
}

const people = [
  { username: 'tanaka', password: 'tanaka-demo-2026', displayName: '田中 一郎' },
  { username: 'sato', password: 'sato-demo-2026', displayName: '佐藤 花子' },
  { username: 'suzuki', password: 'suzuki-demo-2026', displayName: '鈴木 健' },
  { username: 'yamada', password: 'yamada-password-1', displayName: '山田 太郎' },
  { username: 'ito', password: 'ito-password-1', displayName: '伊藤 恵' },
];

describe('the call’s media with five sites', () => {
  let stack: Stack;
  let redis: RedisClient;
  let sfu: SfuClient;
  let sessionId = '';
  const sites: Site[] = [];
  const site = (username: string) => sites.find((one) => one.username === username)!;

  /** Who is who in the call (participant id → name), from signaling's presence. */
  const participantIds = async (): Promise<Map<string, string>> => {
    const entries = await redis.hGetAll(`conference:${sessionId}:participants`);
    return new Map(
      Object.values(entries).map((value) => {
        const { participant } = JSON.parse(value) as { participant: { participantId: string; displayName: string } };
        return [participant.displayName, participant.participantId];
      }),
    );
  };

  /** The camera consumers of a participant, as the SFU holds them. */
  const cameraConsumersAtSfu = async (participantId: string): Promise<ConsumerMediaStats[]> => {
    const stats = await sfu.request('session:media', { sessionId, detail: true });
    const media = stats.participantMedia?.find((one) => one.participantId === participantId);
    return (media?.consumers ?? []).filter((consumer) => consumer.source === 'camera');
  };

  beforeAll(async () => {
    stack = await launchThrowawayStack({ sfuWorkers: 1 });
    redis = await connectRedis(stack.redisUrl, () => undefined);
    await testAccount(redis, 'yamada', 'aoshima', ['site-doctor'], '山田 太郎');
    await testAccount(redis, 'ito', 'kuroshio', ['site-doctor'], '伊藤 恵');
    // A session of its own, without cases: the sites' windows hold nothing but the call.
    const host = await new AccountStore(redis, quiet).findByUsername('tanaka');
    const now = Date.now();
    const { session } = await new SessionStore(redis, quiet).create(
      {
        title: '画面共有とレイアウトの確認',
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
    await Promise.all(sites.map(({ browser }) => browser.close()));
    sfu?.close();
    await redis?.close();
    await stack?.stop();
  });

  it('brings five sites into one call', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    for (const person of people) {
      const host = person.username === 'tanaka';
      const browser = await openHospitalBrowser({
        label: person.username,
        // The host's window pages its grid; the others only need to send and receive.
        viewport: host ? { width: 1200, height: 700 } : { width: 560, height: 420 },
      });
      sites.push({ ...person, browser });
      if (person.username === 'sato') await recordScreenCaptures(browser.page);
      await signIn(browser.page, stack.webUrl, person.username, person.password);
      await openRoom(browser.page, stack.webUrl, sessionId);
    }
    await Promise.all(sites.map(({ browser }) => browser.page.click('[data-testid="join"]')));
    await Promise.all(
      sites.map(({ browser }) =>
        browser.page.waitForSelector('main[data-conference-state="joined"]', { timeout: 60_000 }),
      ),
    );
    await expect.poll(async () => (await participantIds()).size, { timeout: 30_000 }).toBe(5);
    // The host hides the chat and participants panel: its width goes to the video tiles.
    const host = site('tanaka').browser.page;
    await host.click('[data-testid="toggle-side-panel"]');
    await host.waitForSelector('[data-testid="side-panel"]', { state: 'detached' });
  });

  it('shows a shared screen large at the other sites, one share at a time, and ends it from the browser’s bar', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    const sato = site('sato').browser.page;
    const tanaka = site('tanaka').browser.page;
    const suzuki = site('suzuki').browser.page;

    await sato.check('[data-testid="share-screen-audio"]');
    await sato.click('[data-testid="share-screen"]');
    await sato.waitForSelector('[data-testid="screen-share-control"][data-sharing="true"]');

    // The others see it playing, large, with the sharer's camera still there.
    for (const page of [tanaka, suzuki]) {
      await expect
        .poll(
          () =>
            page.evaluate(async () => {
              const video = document.querySelector<HTMLVideoElement>(
                'figure[data-screen-share="佐藤 花子"][data-tile-size="stage"] video[data-screen-share-video]',
              );
              if (!video) return false;
              const before = video.currentTime;
              await new Promise((resolve) => setTimeout(resolve, 700));
              return video.videoWidth > 0 && video.currentTime > before;
            }),
          { timeout: 45_000, interval: 1_000 },
        )
        .toBe(true);
    }
    // Its sound is received too, and the sharer's camera stays.
    const ids = await participantIds();
    const sources = async () => {
      const stats = await sfu.request('session:media', { sessionId, detail: true });
      const media = stats.participantMedia?.find((one) => one.participantId === ids.get('田中 一郎'));
      return (media?.consumers ?? [])
        .filter((consumer) => consumer.producerParticipantId === ids.get('佐藤 花子'))
        .map((consumer) => consumer.source)
        .sort();
    };
    await expect.poll(sources, { timeout: 15_000 }).toEqual(['camera', 'microphone', 'screen', 'screen-audio']);

    // Nobody else may share meanwhile, until the host allows more.
    await suzuki.waitForSelector('[data-testid="screen-share-blocked"]');
    expect(await suzuki.locator('[data-testid="share-screen"]').isDisabled()).toBe(true);
    await tanaka.check('[data-testid="allow-multiple-screen-shares"]');
    await suzuki.waitForSelector('[data-testid="screen-share-control"][data-allow-multiple="true"]');
    expect(await suzuki.locator('[data-testid="share-screen"]').isEnabled()).toBe(true);

    // Sato ends it with the browser's own "Stop sharing": it ends everywhere.
    expect(await endScreenCaptures(sato)).toBe(2);
    await sato.waitForSelector('[data-testid="screen-share-control"][data-sharing="false"]');
    for (const page of [tanaka, suzuki]) {
      await expect.poll(() => page.locator('figure[data-screen-share]').count(), { timeout: 15_000 }).toBe(0);
    }
    await expect.poll(sources, { timeout: 15_000 }).toEqual(['camera', 'microphone']);
    const audit = (await new AuditLog(redis).recent(50)).map((entry) => entry.action);
    expect(audit).toEqual(
      expect.arrayContaining([
        'conference.screen-share-started',
        'conference.screen-share-stopped',
        'conference.screen-share-policy',
      ]),
    );
  });

  it('pages the grid with last-N = 2: the SFU pauses every camera beyond N and off the page', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    const tanaka = site('tanaka').browser.page;
    const tanakaId = (await participantIds()).get('田中 一郎')!;
    await tanaka.click('[data-testid="layout-grid"]');
    await tanaka.selectOption('[data-testid="video-limit"]', '2');
    await tanaka.waitForSelector('.call-tiles[data-call-layout="grid"][data-video-limit="2"]');
    const pages = tanaka.locator('[data-page-count]');
    await pages.waitFor();
    const pageCount = Number(await pages.getAttribute('data-page-count'));
    expect(pageCount).toBeGreaterThanOrEqual(2);

    for (let page = 1; page <= pageCount; page += 1) {
      await tanaka.waitForSelector(`[data-page="${page}"]`);
      const remoteTiles = await tanaka.locator('figure[data-tile-size="grid"]:not(.local)').count();
      const expected = Math.min(2, remoteTiles);
      // The page says so, and the SFU does so: forwarding exactly `expected` of the four cameras.
      await expect
        .poll(async () => tanaka.locator('figure[data-tile-size="grid"][data-video-receiving="true"]').count(), {
          timeout: 30_000,
        })
        .toBe(expected);
      await expect
        .poll(
          async () => {
            const consumers = await cameraConsumersAtSfu(tanakaId);
            return { paused: consumers.filter((one) => one.paused).length, total: consumers.length };
          },
          { timeout: 30_000 },
        )
        .toEqual({ paused: 4 - expected, total: 4 });
      if (page < pageCount) await tanaka.click('[data-testid="page-next"]');
    }
  });

  it('gives the thumbnails of speaker view the lowest simulcast layer at the SFU, and pauses those scrolled away', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    const tanaka = site('tanaka').browser.page;
    const ids = await participantIds();
    const tanakaId = ids.get('田中 一郎')!;
    await tanaka.click('[data-testid="layout-speaker"]');
    await tanaka.selectOption('[data-testid="video-limit"]', '4');
    await tanaka.waitForSelector('.call-tiles[data-call-layout="speaker"][data-video-limit="4"]');
    // Sato pinned: large on the stage, whoever speaks; everyone else in the filmstrip.
    await tanaka.locator('figure:has(video[data-peer-name="佐藤 花子"]) [data-testid="pin"]').click();
    await tanaka.waitForSelector(
      'figure[data-tile-size="stage"][data-pinned="true"]:has(video[data-peer-name="佐藤 花子"])',
    );

    /** Per thumbnail: what the page shows, and what the SFU forwards (paused, or its preferred and current layer). */
    const thumbnails = async () => {
      const consumers = await cameraConsumersAtSfu(tanakaId);
      const shown = await tanaka.locator('figure[data-tile-size="strip"]:not(.local)').evaluateAll((tiles) =>
        tiles.map((tile) => ({
          participantId: tile.getAttribute('data-participant-id') ?? '',
          receiving: tile.getAttribute('data-video-receiving') === 'true',
        })),
      );
      return shown.map(({ participantId, receiving }) => {
        const consumer = consumers.find((one) => one.producerParticipantId === participantId);
        const forwarded =
          consumer && !consumer.paused ? [consumer.preferredSpatialLayer, consumer.currentSpatialLayer] : 'paused';
        return { participantId, receiving, forwarded };
      });
    };
    /** Received thumbnails come at layer 0, the others are paused at the SFU; at least `atLeast` are received. */
    const lowestOrPaused = (atLeast: number) =>
      expect
        .poll(
          async () => {
            const now = await thumbnails();
            const right = now.every(({ receiving, forwarded }) =>
              receiving ? JSON.stringify(forwarded) === '[0,0]' : forwarded === 'paused',
            );
            return right && now.filter(({ receiving }) => receiving).length >= atLeast ? 'as expected' : now;
          },
          { timeout: 60_000, interval: 1_000 },
        )
        .toBe('as expected');
    await lowestOrPaused(2);
    // The stage asks for more than the lowest layer.
    const satoConsumer = (await cameraConsumersAtSfu(tanakaId)).find(
      (one) => one.producerParticipantId === ids.get('佐藤 花子'),
    );
    expect(satoConsumer?.preferredSpatialLayer).toBeGreaterThanOrEqual(1);

    // Scrolling the filmstrip to its end brings the last thumbnail in, at layer 0.
    await tanaka.locator('.filmstrip').evaluate((strip) => (strip.scrollLeft = strip.scrollWidth));
    const last = await tanaka.locator('figure[data-tile-size="strip"]').last().getAttribute('data-participant-id');
    await expect
      .poll(async () => (await thumbnails()).find((one) => one.participantId === last), { timeout: 30_000 })
      .toMatchObject({ receiving: true, forwarded: [0, 0] });
    await lowestOrPaused(2);
  });

  it('shows each tile’s connection quality, and the host the media of everyone', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    const tanaka = site('tanaka').browser.page;
    const stage = tanaka.locator('figure[data-tile-size="stage"] [data-connection-quality]');
    await expect.poll(() => stage.getAttribute('data-connection-quality'), { timeout: 30_000 }).not.toBe('unknown');
    await expect
      .poll(async () => Number(await stage.getAttribute('data-receive-kbps')), { timeout: 30_000 })
      .toBeGreaterThan(0);
    expect(Number(await stage.getAttribute('data-rtt-ms'))).toBeGreaterThanOrEqual(0);
    await tanaka.click('figure[data-tile-size="stage"] [data-testid="quality-indicator"]');
    const details = tanaka.locator('figure[data-tile-size="stage"] [data-testid="quality-details"]');
    await details.waitFor();
    // The layer shows once the SFU has reported one for this consumer (it follows the figures).
    await expect.poll(() => details.innerText(), { timeout: 30_000 }).toMatch(/\d+ (kbps|Mbps)[\s\S]*S\d T\d/);
    await tanaka.keyboard.press('Escape');

    // The host's media stats list all five, with what each receiver paused.
    await tanaka.click('[data-testid="toggle-media-stats"]');
    await expect
      .poll(() => tanaka.locator('[data-testid="media-stats"] tr[data-participant-id]').count(), { timeout: 20_000 })
      .toBe(5);
    expect(await tanaka.locator('[data-testid="media-stats"]').innerText()).toContain('山田 太郎');
    // Only the host has it.
    for (const username of ['sato', 'suzuki']) {
      expect(await site(username).browser.page.locator('[data-testid="toggle-media-stats"]').count()).toBe(0);
    }
  });
});
