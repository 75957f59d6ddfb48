import { describe, expect, it } from 'vitest';
import type { VideoDemand } from './conference-room.svelte.ts';
import {
  LINK_POLICY,
  climbHoldOff,
  demandsAt,
  initialLinkState,
  levelNeeds,
  levelThatFits,
  linkNotice,
  linkSampleOf,
  nextLinkState,
  sendLayerCap,
  type LinkLevel,
  type LinkPolicyState,
  type LinkSample,
} from './link-adaptation.ts';

const presenter = 'p-presenter';
const demands: VideoDemand[] = [
  { participantId: presenter, source: 'camera', spatialLayer: 2 },
  { participantId: 'p-a', source: 'camera', spatialLayer: 1 },
  { participantId: 'p-b', source: 'camera', spatialLayer: 1 },
];
const presenters = new Set([presenter]);
const needs = levelNeeds(demands, presenters, 3);

const good: LinkSample = { availableIncomingKbps: 10_000, lossPercent: 0, roundTripTimeMs: 40, score: 10 };
const lossy: LinkSample = { ...good, lossPercent: 15 };
const thin = (kbps: number): LinkSample => ({ ...good, availableIncomingKbps: kbps });

/** Runs samples through the policy and returns the level after each. */
function run(samples: LinkSample[], start: LinkPolicyState = initialLinkState(), profileKbps: number | null = null) {
  const levels: LinkLevel[] = [];
  let state = start;
  for (const sample of samples) {
    state = nextLinkState(state, sample, profileKbps, needs);
    levels.push(state.level);
  }
  return { levels, state };
}

const times = <T>(count: number, item: T): T[] => Array.from({ length: count }, () => item);

describe('what each level lets through', () => {
  it('gives up everyone else’s video before the presenter’s, and all video last', () => {
    expect(demandsAt('full', demands, presenters)).toEqual(demands);
    expect(demandsAt('others-reduced', demands, presenters)).toEqual([
      demands[0],
      { participantId: 'p-a', source: 'camera', spatialLayer: 0 },
      { participantId: 'p-b', source: 'camera', spatialLayer: 0 },
    ]);
    expect(demandsAt('others-paused', demands, presenters)).toEqual([demands[0]]);
    expect(demandsAt('presenter-reduced', demands, presenters)).toEqual([
      { participantId: presenter, source: 'camera', spatialLayer: 0 },
    ]);
    expect(demandsAt('audio-only', demands, presenters)).toEqual([]);
  });

  it('counts a shared screen as the presenter’s video', () => {
    const screen: VideoDemand = { participantId: 'p-a', source: 'screen', spatialLayer: null };
    expect(demandsAt('others-paused', [...demands, screen], new Set())).toEqual([screen]);
    expect(demandsAt('presenter-reduced', [screen], new Set())).toEqual([screen]);
  });

  it('needs less of the link at every step down', () => {
    const values = ['full', 'others-reduced', 'others-paused', 'presenter-reduced', 'audio-only'].map(
      (level) => needs[level as LinkLevel],
    );
    expect(values).toEqual([...values].sort((a, b) => b - a));
    expect(needs['audio-only']).toBe(120);
    expect(levelThatFits(null, needs)).toBe('full');
    expect(levelThatFits(needs['others-paused'], needs)).toBe('others-paused');
    expect(levelThatFits(50, needs)).toBe('audio-only');
  });

  it('tells the user of reduced video, and more firmly of paused video', () => {
    expect(
      ['full', 'others-reduced', 'others-paused', 'presenter-reduced', 'audio-only'].map((level) =>
        linkNotice(level as LinkLevel),
      ),
    ).toEqual(['none', 'reduced', 'video-paused', 'video-paused', 'video-paused']);
  });
});

describe('stepping down', () => {
  it('steps down one level at a time under loss, in the fixed order, down to audio only', () => {
    const { levels } = run(times(LINK_POLICY.downAfter * 4 + 1, lossy));
    const step = (level: LinkLevel) => times(LINK_POLICY.downAfter, level);
    expect(levels).toEqual([
      ...step('full').slice(1),
      ...step('others-reduced'),
      ...step('others-paused'),
      ...step('presenter-reduced'),
      'audio-only',
      'audio-only',
    ]);
  });

  it('ignores a single bad sample', () => {
    expect(run([lossy, good, lossy, good, lossy, good]).levels.every((level) => level === 'full')).toBe(true);
  });

  it('goes straight to the level the measured bandwidth carries', () => {
    const { levels } = run(times(LINK_POLICY.downAfter, thin(needs['presenter-reduced'])));
    expect(levels).toEqual([...times(LINK_POLICY.downAfter - 1, 'full'), 'presenter-reduced']);
  });

  it('holds the link profile’s cap even when the browser measures more', () => {
    const { levels } = run(times(LINK_POLICY.downAfter, good), initialLinkState(), needs['others-paused']);
    expect(levels.at(-1)).toBe('others-paused');
  });

  it('steps down on the SFU’s low scores too', () => {
    expect(run(times(LINK_POLICY.downAfter, { ...good, score: 3 })).levels.at(-1)).toBe('others-reduced');
  });

  it('steps down while the SFU cannot fit a camera it is asked for, and climbs only once it fits', () => {
    const starved: LinkSample = { ...good, availableIncomingKbps: null, starved: true };
    const down = run(times(LINK_POLICY.downAfter * 2, starved));
    expect(down.levels.at(-1)).toBe('others-paused');
    // Still starved: no climb, however long.
    expect(
      run(times(LINK_POLICY.climbAfter * 3, starved), down.state).levels.every((l) => l !== 'others-reduced'),
    ).toBe(true);
    const fits = run(times(LINK_POLICY.climbAfter, { ...starved, starved: false }), down.state);
    expect(fits.levels.at(-1)).toBe('others-reduced');
    // Just after a climb the SFU's estimate is still catching up: a starved camera is given
    // the probe's samples before it counts.
    const probe = run(times(LINK_POLICY.climbProbe + LINK_POLICY.downAfter, starved), fits.state).levels;
    expect(
      probe.slice(0, LINK_POLICY.climbProbe + LINK_POLICY.downAfter - 1).every((l) => l === 'others-reduced'),
    ).toBe(true);
    expect(probe.at(-1)).toBe('others-paused');
  });
});

describe('climbing back', () => {
  it('climbs one level at a time, only after enough good samples in a row', () => {
    const { levels } = run(times(LINK_POLICY.climbAfter * 2, good), initialLinkState('others-paused'));
    const firstClimb = LINK_POLICY.climbAfter - 1;
    expect(levels.slice(0, firstClimb)).toEqual(times(firstClimb, 'others-paused'));
    expect(levels[firstClimb]).toBe('others-reduced');
    expect(levels.at(-1)).toBe('full');
  });

  it('does not climb without headroom above the next level’s needs', () => {
    const tight = thin(needs['others-reduced']);
    expect(run(times(20, tight), initialLinkState('others-paused')).levels.at(-1)).toBe('others-paused');
  });

  it('starts counting again after any sample that is not good', () => {
    const almost = [...times(LINK_POLICY.climbAfter - 1, good), { ...good, lossPercent: 4 }];
    const { levels } = run([...almost, ...almost], initialLinkState('audio-only'));
    expect(levels.every((level) => level === 'audio-only')).toBe(true);
  });

  it('waits longer after each flap and does not oscillate on a link that fails whenever it climbs', () => {
    // A link that carries others-paused but not the level above: every climb meets loss.
    let state = initialLinkState('others-paused');
    const climbs: number[] = [];
    let sample = 0;
    for (let round = 0; round < 4; round++) {
      let waited = 0;
      while (state.level === 'others-paused') {
        state = nextLinkState(state, good, null, needs);
        waited++;
        sample++;
      }
      climbs.push(waited);
      while (state.level !== 'others-paused') {
        state = nextLinkState(state, lossy, null, needs);
        sample++;
      }
    }
    expect(climbs).toEqual([climbHoldOff(0), climbHoldOff(1), climbHoldOff(2), climbHoldOff(3)]);
    expect(climbs).toEqual([4, 8, 16, 32]);
    expect(state.flaps).toBe(4);
    expect(sample).toBeGreaterThan(60);
  });

  it('forgives flaps after a long steady stretch', () => {
    const flapped: LinkPolicyState = { ...initialLinkState('others-paused'), flaps: 3 };
    const { state } = run(times(LINK_POLICY.steadyAfter, { ...good, lossPercent: 4 }), flapped);
    expect(state.flaps).toBe(2);
  });

  it('caps the hold-off', () => {
    expect(climbHoldOff(20)).toBe(LINK_POLICY.maxClimbAfter);
  });
});

describe('the camera layers a site sends', () => {
  it('sends what its uplink carries with its voice', () => {
    expect(sendLayerCap(null)).toBe(2);
    expect(sendLayerCap(100)).toBe(0);
    expect(sendLayerCap(1_000)).toBe(1);
    expect(sendLayerCap(3_000)).toBe(2);
  });
});

describe('a sample from the room’s measurements', () => {
  it('weighs loss and scores by bitrate, takes the worst round trip, and ignores paused videos’ old figures', () => {
    expect(
      linkSampleOf(
        [
          { receiving: true, kbps: 100, lossPercent: 1, roundTripTimeMs: 600, score: 9 },
          { receiving: true, kbps: 300, lossPercent: 6, roundTripTimeMs: 620, score: 7 },
          { receiving: false, kbps: 900, lossPercent: 40, roundTripTimeMs: 3_000, score: 1 },
        ],
        800,
      ),
    ).toEqual({ availableIncomingKbps: 800, lossPercent: 4.8, roundTripTimeMs: 620, score: 7.5, starved: false });
    // A voice in DTX losing one packet of five does not make the link lossy.
    expect(
      linkSampleOf(
        [
          { receiving: true, kbps: 2, lossPercent: 20, roundTripTimeMs: 40, score: 10 },
          { receiving: true, kbps: 500, lossPercent: 0, roundTripTimeMs: 40, score: 10 },
        ],
        null,
      ).lossPercent,
    ).toBe(0.1);
    // The SFU's measure of its hop to this browser outranks the browser's own loss: a link
    // losing 15 % whose retransmissions repaired nearly all of it, and a sender's lossy uplink
    // that is no fault of this site's link.
    const repaired = [{ receiving: true, kbps: 800, lossPercent: 0.4, roundTripTimeMs: 620, score: 9 }];
    expect(linkSampleOf(repaired, null, { lossPercent: 15 }).lossPercent).toBe(15);
    const senderLossy = [{ receiving: true, kbps: 800, lossPercent: 14, roundTripTimeMs: 40, score: 9 }];
    expect(linkSampleOf(senderLossy, null, { lossPercent: 0.2 }).lossPercent).toBe(0.2);
    // Not measured by the SFU yet: the browser's figures.
    expect(linkSampleOf(senderLossy, null, { lossPercent: null }).lossPercent).toBe(14);
    // A stream whose sender's uplink is poor does not lower this link's score.
    const lossySender = {
      receiving: true,
      kbps: 900,
      lossPercent: 30,
      roundTripTimeMs: 40,
      score: 2,
      producerScore: 3,
    };
    const voice = { receiving: true, kbps: 40, lossPercent: 0, roundTripTimeMs: 40, score: 10, producerScore: 10 };
    expect(linkSampleOf([lossySender, voice], null)).toMatchObject({ score: 10 });
    // With the SFU's measure of the hop, its lagging scores are left out.
    expect(linkSampleOf([lossySender, voice], null, { lossPercent: 0.1 })).toMatchObject({
      lossPercent: 0.1,
      score: null,
    });
    // One camera the SFU forwards nothing of makes the sample starved; a paused one does not count.
    const camera = { receiving: true, kbps: 0, lossPercent: 0, roundTripTimeMs: 40, score: 10 };
    expect(linkSampleOf([camera, { ...camera, starved: true }], null).starved).toBe(true);
    expect(linkSampleOf([camera, { ...camera, receiving: false, starved: true }], null).starved).toBe(false);
    expect(linkSampleOf([], null)).toEqual({
      availableIncomingKbps: null,
      lossPercent: null,
      roundTripTimeMs: null,
      score: null,
      starved: false,
    });
  });
});
