import { islandLinkProfiles, type IslandLinkProfile } from '../../stack/island-link-profiles.ts';
import { linkLabUnavailable } from '../../stack/link-lab.ts';
import { openIslandLinkScene, type ProfileFigures } from '../../e2e/island-link-site.ts';

/**
 * `npm run bench:links`: the island-link scene (e2e/island-link-site.ts — the hub in Chromium
 * here, the island in Chromium inside the link lab behind the impairment relay) measured on
 * each of issue 7's profiles, and on an unshaped link in the same run as the baseline: time to
 * join (join pressed → joined), time to first audio (join pressed → the hub's audio playing),
 * joint-read convergence p50/p95 (the presenter's screen showing an image → the island's),
 * the audio concealment ratio while reading, and each figure's ratio to the baseline. The
 * outage profile also gives how long audio takes to come back after each cut (5, 25 and 84 s).
 * Needs root.
 */

const STEPS = Number(process.env.BENCH_LINKS_STEPS ?? 30);
const round4 = (value: number) => (Number.isNaN(value) ? null : Math.round(value * 10_000) / 10_000);
const round2 = (value: number | null) => (value === null || Number.isNaN(value) ? null : Math.round(value * 100) / 100);
const ratio = (value: number | null, base: number | null) =>
  value === null || base === null || Number.isNaN(value) || Number.isNaN(base) || base === 0
    ? null
    : round2(value / base);

const unavailable = await linkLabUnavailable();
if (unavailable) {
  console.log(`bench:links skipped: ${unavailable}`);
  console.log(JSON.stringify({ skipped: unavailable }));
  process.exit(0);
}

const profiles: IslandLinkProfile[] = [
  islandLinkProfiles.unshaped,
  islandLinkProfiles.geoSatellite,
  islandLinkProfiles.islandLte,
  islandLinkProfiles.tcp443Only,
  islandLinkProfiles.outage,
];

console.log('starting the system, the link lab and two Chromium sites …');
const scene = await openIslandLinkScene();
const measured = new Map<string, ProfileFigures>();
const extra: Record<string, number | null> = {};
try {
  for (const profile of profiles) {
    console.log(`${profile.description} …`);
    const figures = await scene.measure(profile, { convergenceSteps: STEPS });
    measured.set(profile.name, figures);
    console.log(
      `  joined ${figures.joined} in ${figures.joinMs} ms, first audio ${round2(figures.firstAudioMs)} ms, ` +
        `path ${figures.paths.map((path) => path.path).join('+') || 'none'}, ` +
        `joint read p50/p95 ${round2(figures.convergenceP50Ms)}/${round2(figures.convergenceP95Ms)} ms, ` +
        `concealment ${round2(figures.audio.concealmentRatio * 100)} %`,
    );
    for (const cutMs of figures.joined ? (profile.outagesMs ?? []) : []) {
      await scene.lab.setLinkDown(true);
      await new Promise((resolve) => setTimeout(resolve, cutMs));
      await scene.lab.setLinkDown(false);
      const restored = Date.now();
      let back: number | null = null;
      for (let waited = 0; waited < 60_000 && back === null; waited += 250) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        back = (await scene.audioSince(restored, [])).firstAudioAt;
      }
      extra[`audio_back_after_${cutMs / 1000}s_outage_ms`] = back === null ? null : round2(back - restored);
      console.log(
        `  audio back ${extra[`audio_back_after_${cutMs / 1000}s_outage_ms`]} ms after a ${cutMs / 1000} s outage`,
      );
    }
  }
} finally {
  await scene.close();
}

const baseline = measured.get(islandLinkProfiles.unshaped.name)!;
const figures: Record<string, unknown> = { steps: STEPS };
for (const [name, one] of measured) {
  const key = name.replaceAll('-', '_');
  Object.assign(figures, {
    [`${key}_joined`]: one.joined,
    [`${key}_path`]: one.paths.map((path) => path.path).join('+') || null,
    [`${key}_join_ms`]: one.joinMs,
    [`${key}_first_audio_ms`]: round2(one.firstAudioMs),
    [`${key}_convergence_p50_ms`]: round2(one.convergenceP50Ms),
    [`${key}_convergence_p95_ms`]: round2(one.convergenceP95Ms),
    [`${key}_steps_seen_ratio`]: round2(one.stepsSeenRatio),
    [`${key}_concealment_ratio`]: round4(one.audio.concealmentRatio),
    [`${key}_longest_audio_gap_ms`]: round2(one.audio.longestGapMs),
  });
  if (one !== baseline) {
    Object.assign(figures, {
      [`${key}_join_vs_unshaped`]: ratio(one.joinMs, baseline.joinMs),
      [`${key}_first_audio_vs_unshaped`]: ratio(one.firstAudioMs, baseline.firstAudioMs),
      [`${key}_convergence_p95_vs_unshaped`]: ratio(one.convergenceP95Ms, baseline.convergenceP95Ms),
    });
  }
}
console.log(JSON.stringify({ ...figures, ...extra }));
