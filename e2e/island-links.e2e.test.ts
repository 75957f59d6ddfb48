import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { islandLinkProfiles, type IslandLinkProfile } from '../stack/island-link-profiles.ts';
import { linkLabUnavailable } from '../stack/link-lab.ts';
import { playingRemoteVideos } from './hospital-browser.ts';
import { transportPaths } from './island-link-probes.ts';
import { openIslandLinkScene, type IslandLinkScene, type ProfileFigures } from './island-link-site.ts';

/**
 * Issue 7's island links in real Chromium: the hub unshaped on this machine, the island inside
 * the link lab (stack/link-lab.ts) behind the impairment relay, one profile after another on
 * the island's link. For each: the island joins again over it, and the test prints and checks
 * the join, the transport path, the hub's audio arriving without a gap over 1 s, and the joint
 * read following the presenter within RTT + 150 ms at p95. Needs root (network namespaces);
 * skipped with the reason printed otherwise.
 */

const unavailable = await linkLabUnavailable();
if (unavailable) console.warn(`\n  island-link e2e skipped: ${unavailable}\n`);

function report(figures: ProfileFigures): void {
  const round = (value: number | null) => (value === null || Number.isNaN(value) ? '–' : Math.round(value));
  console.log(
    [
      `  ${figures.profile}: joined=${figures.joined} in ${round(figures.joinMs)} ms, first audio ${round(figures.firstAudioMs)} ms`,
      `    path ${figures.paths.map((path) => `${path.path} → ${path.remoteAddress}:${path.remotePort}`).join(', ') || 'none'}`,
      `    joint read p50 ${round(figures.convergenceP50Ms)} ms, p95 ${round(figures.convergenceP95Ms)} ms (${Math.round(figures.stepsSeenRatio * 100)} % of steps seen)`,
      `    audio: longest gap ${round(figures.audio.longestGapMs)} ms, concealment ${(figures.audio.concealmentRatio * 100).toFixed(1)} %`,
      `    remote videos with frames: ${figures.videosPlaying}`,
      `    link while reading: ${figures.link.downKbps} kbit/s to the island, ${figures.link.upKbps} kbit/s from it, dropped ${JSON.stringify(figures.link.dropped)}`,
    ].join('\n'),
  );
}

describe.skipIf(unavailable !== null)('island links under emulated profiles', () => {
  let scene: IslandLinkScene;

  beforeAll(async () => {
    scene = await openIslandLinkScene();
  }, 180_000);

  afterAll(async () => {
    await scene?.close();
  });

  /** What every profile with a working media path must show. */
  async function expectCallCarries(profile: IslandLinkProfile, figures: ProfileFigures, paths: string[]) {
    report(figures);
    expect(figures.joined).toBe(true);
    expect(figures.firstAudioMs).not.toBeNull();
    expect(figures.paths.length).toBeGreaterThan(0);
    for (const path of figures.paths) expect(paths).toContain(path.path);
    expect(figures.audio.longestGapMs).toBeLessThanOrEqual(1_000);
    expect(figures.stepsSeenRatio).toBeGreaterThanOrEqual(0.8);
    expect(figures.convergenceP95Ms).toBeLessThanOrEqual(profile.link.roundTripMs + 150);
  }

  it('carries the call on an unshaped link (the baseline)', async () => {
    onTestFailed(async () => console.error(await scene.stack.logTails(40)));
    const figures = await scene.measure(islandLinkProfiles.unshaped);
    await expectCallCarries(islandLinkProfiles.unshaped, figures, ['udp']);
    expect(figures.videosPlaying).toBeGreaterThan(0);
  });

  it('carries the call over a GEO satellite link (600 ms RTT, 1 Mbit/s, 1 % loss)', async () => {
    onTestFailed(async () => console.error(await scene.stack.logTails(40)));
    const figures = await scene.measure(islandLinkProfiles.geoSatellite);
    await expectCallCarries(islandLinkProfiles.geoSatellite, figures, ['udp']);
  });

  it('carries the call over island LTE (80 ms RTT, 3 Mbit/s, bursty loss)', async () => {
    onTestFailed(async () => console.error(await scene.stack.logTails(40)));
    const figures = await scene.measure(islandLinkProfiles.islandLte);
    await expectCallCarries(islandLinkProfiles.islandLte, figures, ['udp']);
  });

  it('bridges a 5 s outage without the island leaving the call', async () => {
    onTestFailed(async () => console.error(await scene.stack.logTails(40)));
    const profile = islandLinkProfiles.outage;
    const figures = await scene.measure(profile);
    await expectCallCarries(profile, figures, ['udp']);
    const from = Date.now();
    await scene.lab.setLinkDown(true);
    await new Promise((resolve) => setTimeout(resolve, profile.outagesMs[0]));
    await scene.lab.setLinkDown(false);
    const cut = { from, to: Date.now() };
    // Audio comes back by itself, and the island never left the call.
    await expect
      .poll(async () => (await scene.audioSince(cut.to, [])).firstAudioAt !== null, { timeout: 20_000 })
      .toBe(true);
    const after = await scene.audioSince(cut.to, []);
    console.log(
      `  outage 5 s: audio back ${Math.round((after.firstAudioAt ?? Number.NaN) - cut.to)} ms after the link`,
    );
    expect(await scene.island.getAttribute('main', 'data-conference-state')).toBe('joined');
    expect((await transportPaths(scene.island)).length).toBeGreaterThan(0);
  });

  // Needs the resume work (branch issue7-resume: Socket.IO resume within a grace period, ICE
  // restart / transport rebuild): not in main yet.
  it.todo('recovers by itself after 25 s and 84 s outages (needs issue7-resume in main)');

  // Needs TURN over TLS on 443 (branch issue7-turn): not in main yet. Without it a site behind
  // a TCP-443-only firewall has no media path at all.
  it.todo('carries the call over TURN/TLS on 443 behind a TCP-443-only firewall (needs issue7-turn in main)');

  // Needs the degradation order (branch issue7-degrade): not in main yet.
  it.todo('degrades video before audio on a thin link and recovers it (needs issue7-degrade in main)');

  it('shows the hub’s video at the island again on the unshaped link', async () => {
    await scene.lab.applyProfile(islandLinkProfiles.unshaped, []);
    await expect
      .poll(async () => (await playingRemoteVideos(scene.island)).length, { timeout: 30_000 })
      .toBeGreaterThan(0);
  });
});
