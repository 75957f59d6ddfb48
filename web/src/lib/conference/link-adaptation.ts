/**
 * How a site's browser gives way when its link cannot carry the call, in the fixed order of
 * what survives: audio first, then the joint read's sync (a data channel of its own, never
 * touched here), then the presenter's video, then everyone else's video. Each step down gives
 * up the least important video still received:
 *
 *   full → others-reduced (everyone else's video at the lowest layer)
 *        → others-paused (everyone else's video not received)
 *        → presenter-reduced (the presenter's video at its lowest layer too)
 *        → audio-only (no video at all; every tile shows its still avatar)
 *
 * The link's capacity is the lower of the site's link profile (what the coordinator configured)
 * and what the browser measures (`availableIncomingBitrate`); loss and the SFU's consumer scores
 * push down too, and so does a camera the SFU forwards no layer of (its estimate of the link
 * cannot fit it). The loss is the SFU's measure of its hop to this browser (`link:downlink`, from
 * transport-wide congestion-control feedback) when it has one: the browser's own packet loss is
 * counted after NACK retransmissions repaired it (a link losing 15 % showed next to none) and
 * includes what other senders' uplinks lost, which is no reason for this site to give way.
 *
 * It climbs back one level at a time, only after several good samples in a row and with
 * headroom; each climb that had to be undone soon after (a flap) doubles the number of good
 * samples the next climb waits for. Everything counts samples (the room takes one every 3 s),
 * never clock time, so the policy is a pure function tested without timers. Hand-written: the
 * order and the tie to this room's demand mechanism are ours; no library models them.
 */

import { linkLevels, type DownlinkMeasure, type LinkLevel } from '@telemed/contract';
import type { VideoDemand } from './conference-room.svelte.ts';
import { worst } from './connection-quality.ts';

export { linkLevels, type LinkLevel };

/** What one quality sample of the room says about this browser's downlink. Null: not measured. */
export interface LinkSample {
  /** The browser's estimate of what its receive path can take (candidate pair `availableIncomingBitrate`). */
  availableIncomingKbps: number | null;
  /** Packets lost on the way to this browser, in percent (see `linkSampleOf`). */
  lossPercent: number | null;
  /** Round trip to the media server. Only an extreme one counts: a satellite's 600 ms is its normal. */
  roundTripTimeMs: number | null;
  /** The SFU's consumer scores for this browser (0–10), averaged by bitrate. */
  score: number | null;
  /**
   * A camera this browser asks for gets no layer at all from the SFU although its sender sends:
   * the SFU's bandwidth estimate of this link cannot fit even its lowest layer after the
   * streams before it (mediasoup then forwards nothing, and the tile would freeze).
   */
  starved?: boolean;
}

/** Roughly what each level needs of the downlink, in kbit/s (see `levelNeeds`). */
export type LevelNeeds = Record<LinkLevel, number>;

export interface LinkPolicyState {
  level: LinkLevel;
  /** Pressured samples in a row (the link cannot carry this level). */
  pressured: number;
  /** Good samples in a row with room for the level above. */
  good: number;
  /** Samples since the last change of level. */
  sinceChange: number;
  /** Whether the last change was a climb (a step down soon after one is a flap). */
  lastChangeWasClimb: boolean;
  /** Flaps counted (decay after a long steady stretch): each doubles the climb's hold-off. */
  flaps: number;
}

export const LINK_POLICY = {
  /** Pressured samples in a row before stepping down: one or two bad samples are a blip. */
  downAfter: 3,
  /** Good samples in a row before the first climb (12 s at 3 s a sample). */
  climbAfter: 4,
  /** The longest a climb waits however often it flapped (4 × 2⁴ samples ≈ 3 min). */
  maxClimbAfter: 64,
  /** A step down within this many samples of a climb counts as a flap. */
  flapWindow: 10,
  /** After this many samples without a change, one flap is forgiven. */
  steadyAfter: 40,
  /** Loss from which the link is pressured, and below which it is good (percent). */
  lossPressure: 12,
  lossGood: 2,
  /** SFU scores at or below which the link is pressured, and from which it is good. */
  scorePressure: 4,
  scoreGood: 8,
  /** A round trip beyond any real link's (a stalled path), in ms. */
  extremeRoundTripMs: 2_000,
  /** Capacity needed above a level's needs before climbing to it. */
  climbHeadroom: 1.25,
  /**
   * Samples after a climb during which a starved camera does not count: the SFU's bandwidth
   * estimate rises only once there is more to send, so a climb is its probe.
   */
  climbProbe: 5,
} as const;

/** Kbit/s of one received stream: Opus voice, and each camera simulcast layer (see the room's encodings). */
export const STREAM_KBPS = { audio: 40, cameraLayers: [150, 500, 1_200], screen: 1_500 } as const;

export function initialLinkState(level: LinkLevel = 'full'): LinkPolicyState {
  return { level, pressured: 0, good: 0, sinceChange: 0, lastChangeWasClimb: false, flaps: 0 };
}

const rank = (level: LinkLevel) => linkLevels.indexOf(level);
const levelAt = (index: number): LinkLevel =>
  linkLevels[Math.max(0, Math.min(linkLevels.length - 1, index))] ?? 'audio-only';

/** The lower of two optional capacities. */
export function capacityOf(profileKbps: number | null, measuredKbps: number | null): number | null {
  if (profileKbps === null) return measuredKbps;
  if (measuredKbps === null) return profileKbps;
  return Math.min(profileKbps, measuredKbps);
}

/** The highest level whose needs fit a capacity (all of them when it is unknown). */
export function levelThatFits(capacityKbps: number | null, needs: LevelNeeds): LinkLevel {
  if (capacityKbps === null) return 'full';
  return linkLevels.find((level) => needs[level] <= capacityKbps) ?? 'audio-only';
}

/** Good samples in a row a climb waits for after so many flaps. */
export function climbHoldOff(flaps: number): number {
  return Math.min(LINK_POLICY.maxClimbAfter, LINK_POLICY.climbAfter * 2 ** flaps);
}

/**
 * One sample's step of the policy: the state after it. `profileKbps` is the site's downlink cap
 * (null: unrestricted), `needs` what each level takes of the current call (`levelNeeds`).
 */
export function nextLinkState(
  state: LinkPolicyState,
  sample: LinkSample,
  profileKbps: number | null,
  needs: LevelNeeds,
): LinkPolicyState {
  const capacity = capacityOf(profileKbps, sample.availableIncomingKbps);
  const index = rank(state.level);
  const lossy = (sample.lossPercent ?? 0) >= LINK_POLICY.lossPressure;
  const scoredLow = sample.score !== null && sample.score <= LINK_POLICY.scorePressure;
  const stalled = (sample.roundTripTimeMs ?? 0) >= LINK_POLICY.extremeRoundTripMs;
  const tooThin = capacity !== null && capacity < needs[state.level];
  const starved = sample.starved === true;
  const probing = state.lastChangeWasClimb && state.sinceChange < LINK_POLICY.climbProbe;
  const pressured = state.level !== 'audio-only' && (lossy || scoredLow || stalled || tooThin || (starved && !probing));
  const above = index > 0 ? levelAt(index - 1) : null;
  const roomAbove = above !== null && (capacity === null || capacity >= needs[above] * LINK_POLICY.climbHeadroom);
  const clean =
    (sample.lossPercent ?? 0) < LINK_POLICY.lossGood &&
    (sample.score ?? 10) >= LINK_POLICY.scoreGood &&
    !stalled &&
    !starved &&
    roomAbove;
  const steady = state.sinceChange + 1;
  const forgiven = steady % LINK_POLICY.steadyAfter === 0 ? Math.max(0, state.flaps - 1) : state.flaps;

  if (pressured) {
    const count = state.pressured + 1;
    if (count < LINK_POLICY.downAfter) return { ...state, pressured: count, good: 0, sinceChange: steady };
    // Too thin for what it takes: straight to the level that fits; loss or low scores: one step.
    const fitting = tooThin ? Math.max(index + 1, rank(levelThatFits(capacity, needs))) : index + 1;
    const flapped = state.lastChangeWasClimb && state.sinceChange < LINK_POLICY.flapWindow;
    return {
      level: levelAt(fitting),
      pressured: 0,
      good: 0,
      sinceChange: 0,
      lastChangeWasClimb: false,
      flaps: flapped ? state.flaps + 1 : state.flaps,
    };
  }
  if (clean && above !== null) {
    const good = state.good + 1;
    if (good >= climbHoldOff(state.flaps)) {
      return { level: above, pressured: 0, good: 0, sinceChange: 0, lastChangeWasClimb: true, flaps: state.flaps };
    }
    return { ...state, pressured: 0, good, sinceChange: steady, flaps: forgiven };
  }
  return { ...state, pressured: 0, good: 0, sinceChange: steady, flaps: forgiven };
}

/** The kbit/s one shown video takes at a layer (null: a screen's single stream). */
function videoKbps(demand: VideoDemand, layer: number | null): number {
  if (demand.source === 'screen' || layer === null) return STREAM_KBPS.screen;
  return STREAM_KBPS.cameraLayers[layer] ?? STREAM_KBPS.cameraLayers[2];
}

/**
 * What each level would take of the downlink for the videos the tiles show now and the voices
 * of `remoteCount` participants: an estimate from the room's own encodings, enough to choose
 * between levels (the SFU's own estimate still picks the exact layer it forwards).
 */
export function levelNeeds(
  demands: readonly VideoDemand[],
  presenterIds: ReadonlySet<string>,
  remoteCount: number,
): LevelNeeds {
  const audio = remoteCount * STREAM_KBPS.audio;
  const sum = (level: LinkLevel) =>
    audio +
    demandsAt(level, demands, presenterIds).reduce(
      (total, demand) => total + videoKbps(demand, demand.spatialLayer),
      0,
    );
  return Object.fromEntries(linkLevels.map((level) => [level, sum(level)])) as LevelNeeds;
}

const lowest = (demand: VideoDemand): VideoDemand => ({
  ...demand,
  spatialLayer: demand.spatialLayer === null ? null : 0,
});

/**
 * The tiles' demand as a level lets it through: the presenter's video (joint-read presenter, or
 * a shared screen) outlives everyone else's, and nothing outlives audio.
 */
export function demandsAt(
  level: LinkLevel,
  demands: readonly VideoDemand[],
  presenterIds: ReadonlySet<string>,
): VideoDemand[] {
  const isPresenter = (demand: VideoDemand) => demand.source === 'screen' || presenterIds.has(demand.participantId);
  switch (level) {
    case 'full':
      return [...demands];
    case 'others-reduced':
      return demands.map((demand) => (isPresenter(demand) ? demand : lowest(demand)));
    case 'others-paused':
      return demands.filter(isPresenter);
    case 'presenter-reduced':
      return demands.filter(isPresenter).map(lowest);
    case 'audio-only':
      return [];
  }
}

/**
 * The highest camera layer this site sends: what its uplink (the lower of its link profile and
 * the browser's `availableOutgoingBitrate`) carries with its voice, counting each layer's
 * bitrate on top of those below (simulcast sends them all). At least the lowest layer.
 */
export function sendLayerCap(uplinkKbps: number | null): number {
  if (uplinkKbps === null) return STREAM_KBPS.cameraLayers.length - 1;
  let total = STREAM_KBPS.audio;
  let cap = 0;
  for (const [layer, kbps] of STREAM_KBPS.cameraLayers.entries()) {
    total += kbps;
    if (total <= uplinkKbps) cap = layer;
  }
  return cap;
}

/** What the user is told: nothing, that video quality is reduced, or that video is paused to keep audio. */
export type LinkNotice = 'none' | 'reduced' | 'video-paused';

export function linkNotice(level: LinkLevel): LinkNotice {
  if (level === 'full') return 'none';
  if (level === 'others-reduced') return 'reduced';
  return 'video-paused';
}

/** One received stream as the room measured it in its last sample. */
export interface MeasuredStream {
  /** The SFU forwards it now (a paused video's old figures do not count). */
  receiving: boolean;
  /** What arrived in the last interval (weighs the stream's loss and score). */
  kbps: number | null;
  lossPercent: number | null;
  roundTripTimeMs: number | null;
  /** The SFU's score of the stream to this browser (0–10; not its sender's uplink: that is theirs to adapt). */
  score: number | null;
  /** The SFU's score of the stream from its sender (0–10): the sender's uplink. */
  producerScore?: number | null;
  /** A camera received now of which the SFU forwards no layer although its sender sends (see `LinkSample.starved`). */
  starved?: boolean;
}

/**
 * A policy sample from the room's measurements: the loss on the SFU's hop to this browser as
 * the SFU measured it (`downlink`) or, without that, the browser's loss and the SFU's scores
 * averaged over the streams received now (scores only of those whose senders reach the SFU
 * well), weighted by bitrate (a voice in DTX sends
 * a few packets a second, where one lost packet reads as 20 % loss: the link's loss is what the
 * bulk of its traffic loses); the worst round trip; and the browser's incoming estimate.
 */
export function linkSampleOf(
  streams: readonly MeasuredStream[],
  availableIncomingKbps: number | null,
  downlink: DownlinkMeasure | null = null,
): LinkSample {
  const receiving = streams.filter((stream) => stream.receiving);
  const measuredBySfu = downlink !== null && downlink.lossPercent !== null;
  // A stream whose sender's uplink is poor arrives with its gaps whatever this link does, and
  // its score to this browser (from this browser's reports) carries them: not this link's.
  const senderFine = (stream: MeasuredStream) => (stream.producerScore ?? 10) >= LINK_POLICY.scoreGood;
  const weighted = (field: 'lossPercent' | 'score'): number | null => {
    const measured = receiving.filter(
      (stream) => stream[field] !== null && (field === 'lossPercent' || senderFine(stream)),
    );
    if (measured.length === 0) return null;
    const weights = measured.map((stream) => Math.max(1, stream.kbps ?? 1));
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    const sum = measured.reduce((acc, stream, index) => acc + (stream[field] ?? 0) * (weights[index] ?? 1), 0);
    return Math.round((sum / total) * 10) / 10;
  };
  return {
    availableIncomingKbps,
    lossPercent: measuredBySfu ? downlink.lossPercent : weighted('lossPercent'),
    roundTripTimeMs: receiving.reduce<number | null>((rtt, stream) => worst(rtt, stream.roundTripTimeMs), null),
    // The SFU's scores come from this browser's receiver reports, averaged over a long history:
    // with the hop's own loss they would only add lag (a link back to health would wait a
    // minute for them before climbing).
    score: measuredBySfu ? null : weighted('score'),
    starved: receiving.some((stream) => stream.starved === true),
  };
}
