import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { DEMO_SESSION_ID, demoConferenceAccounts, demoSites } from '@telemed/domain';
import { SfuClient } from '../signaling/src/sfu-client.ts';
import { launchThrowawayStack, type Stack } from '../stack/stack.ts';
import {
  openHospitalBrowser,
  openRoom,
  playingRemoteVideos,
  signIn,
  type HospitalBrowser,
} from './hospital-browser.ts';

describe('a three-site conference in real browsers', () => {
  let stack: Stack;
  const sites: HospitalBrowser[] = [];

  beforeAll(async () => {
    // A closed browser is a dropped link: held for the resume grace period (short here), then removed.
    stack = await launchThrowawayStack({ sfuWorkers: 2, env: { SIGNALING_RESUME_GRACE_MS: '5000' } });
  });

  afterAll(async () => {
    await Promise.all(sites.map((site) => site.close()));
    await stack?.stop();
  });

  it('lets three hospitals see and hear each other, and cleans up after they leave', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    for (const account of demoConferenceAccounts) {
      const site = await openHospitalBrowser({ label: account.username });
      sites.push(site);
      await signIn(site.page, stack.webUrl, account.username, account.password);
      await openRoom(site.page, stack.webUrl, DEMO_SESSION_ID);
    }
    await Promise.all(sites.map((site) => site.page.click('[data-testid="join"]')));
    await Promise.all(sites.map((site) => site.page.waitForSelector('main[data-conference-state="joined"]')));

    // Everyone sees the two others, with name and site on the tile, and the video plays.
    for (const [index, site] of sites.entries()) {
      const expected = demoConferenceAccounts
        .filter((_, other) => other !== index)
        .map((account) => ({
          name: account.displayName,
          site: demoSites.find((candidate) => candidate.id === account.siteId)!.nameJa,
        }));
      await expect
        .poll(async () => (await playingRemoteVideos(site.page)).sort((a, b) => a.name.localeCompare(b.name)), {
          timeout: 30_000,
          interval: 500,
        })
        .toEqual(expected.sort((a, b) => a.name.localeCompare(b.name)));
    }

    // Everyone hears the others: inbound audio bytes keep increasing.
    for (const site of sites) {
      const audioBytes = () =>
        site.page.evaluate(async () => (await window.telemedQa!.mediaByteCounts()).inboundAudioBytes);
      const first = await audioBytes();
      await expect.poll(audioBytes, { timeout: 10_000 }).toBeGreaterThan(first);
    }

    // Tanaka mutes and stops the camera: the others see it on his tile; his camera is released.
    const tanakaTile = (site: HospitalBrowser) => site.page.locator('figure:has(video[data-peer-name="田中 一郎"])');
    await sites[0]!.page.click('[data-testid="toggle-mic"]');
    await sites[0]!.page.click('[data-testid="toggle-camera"]');
    for (const site of sites.slice(1)) {
      await expect.poll(() => tanakaTile(site).getAttribute('data-mic-muted'), { timeout: 10_000 }).toBe('true');
      await expect.poll(() => tanakaTile(site).getAttribute('data-camera-off'), { timeout: 10_000 }).toBe('true');
    }
    expect(
      await sites[0]!.page.locator('figure.local video').evaluate((video: HTMLVideoElement) => video.srcObject),
    ).toBeNull();
    // Camera back on: his video plays again at the others.
    await sites[0]!.page.click('[data-testid="toggle-camera"]');
    for (const site of sites.slice(1)) {
      await expect
        .poll(async () => (await playingRemoteVideos(site.page)).map((video) => video.name), { timeout: 15_000 })
        .toContain('田中 一郎');
      expect(await tanakaTile(site).getAttribute('data-camera-off')).toBe('false');
    }

    // One site leaves: the other two lose its tile.
    await sites[2]!.page.click('[data-testid="leave"]');
    await sites[2]!.page.waitForSelector('main[data-conference-state="left"]');
    for (const site of sites.slice(0, 2)) {
      await expect.poll(() => site.page.locator('video[data-peer-name]').count(), { timeout: 10_000 }).toBe(1);
    }

    // Everyone leaves (one by closing the browser, removed after the grace period): the SFU holds
    // no transports for the session.
    await sites[1]!.page.click('[data-testid="leave"]');
    await sites[0]!.close();
    const sfu = new SfuClient({
      url: stack.sfuRpcUrl,
      secret: stack.secrets.sfuRpc,
      logger: pino({ level: 'silent' }),
    });
    try {
      await sfu.ready();
      await expect
        .poll(async () => (await sfu.request('session:media', { sessionId: DEMO_SESSION_ID })).transports, {
          timeout: 15_000,
        })
        .toBe(0);
      const media = await sfu.request('session:media', { sessionId: DEMO_SESSION_ID });
      expect(media).toMatchObject({ participants: 0, transports: 0, producers: 0, consumers: 0 });
    } finally {
      sfu.close();
    }
  });
});
