/**
 * What a WAN link does to each packet or chunk: serialisation at the link's rate, the one-way
 * delay with jitter, random or bursty (Gilbert–Elliott) loss, a bottleneck queue that drops
 * when full, and outages. Pure — the clock (`now`, ms) and the random source are passed in — so
 * the relay's behaviour is unit-tested exactly (stack/link-schedule.test.ts) and the relay
 * (stack/emulated-link.ts) only moves bytes at the times this decides.
 *
 * Written by hand: this kernel has no `netem`, and the user-space shapers on npm shape rate only.
 */

/** Loss on a link: independent per packet, or in bursts. */
export type LinkLoss =
  | { kind: 'random'; probability: number }
  /**
   * Gilbert–Elliott: a good and a bad state; per packet the link moves good→bad with
   * `goodToBad`, bad→good with `badToGood`, and loses a packet with `lossInBad` (in the bad
   * state) or `lossInGood`. Mean loss ≈ goodToBad / (goodToBad + badToGood) × lossInBad; mean
   * burst ≈ 1 / badToGood packets.
   */
  | { kind: 'gilbert-elliott'; goodToBad: number; badToGood: number; lossInBad: number; lossInGood?: number };

export interface LinkProfile {
  /** A short name for reports, e.g. `hospital-100M`. */
  name: string;
  /** Capacity of each direction; absent: not limited. */
  bitsPerSecond?: number;
  /** Round-trip time added by the link (half each way). */
  roundTripMs: number;
  /** Each packet's one-way delay varies by up to ± this (uniformly). */
  jitterMs?: number;
  loss?: LinkLoss;
  /**
   * The bottleneck's queue, in ms of the link's rate: a datagram that would wait longer is
   * dropped (tail drop), as a router's full buffer does. Streams are not dropped: their sender
   * is paused instead (TCP's flow control). Default 300 ms.
   */
  queueMs?: number;
}

/** A random source in [0, 1): `Math.random` in the relay, a seeded one in tests. */
export type RandomSource = () => number;

/**
 * A seeded generator (mulberry32), so a relay's loss pattern can be repeated from its seed.
 * Six lines by hand: `Math.random` cannot be seeded, and the npm generators here are only
 * fast-check's transitive dependencies (in two versions).
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Decides, packet by packet, whether the link loses it. */
export class LossProcess {
  private bad = false;
  private readonly loss: LinkLoss | undefined;
  private readonly random: RandomSource;

  constructor(loss: LinkLoss | undefined, random: RandomSource) {
    this.loss = loss;
    this.random = random;
  }

  /** Whether the next packet is lost. */
  lost(): boolean {
    const loss = this.loss;
    if (!loss) return false;
    if (loss.kind === 'random') return this.random() < loss.probability;
    // The state moves first, then the packet meets the state it finds.
    this.bad = this.bad ? this.random() >= loss.badToGood : this.random() < loss.goodToBad;
    return this.random() < (this.bad ? loss.lossInBad : (loss.lossInGood ?? 0));
  }
}

/** A TCP segment's payload on an Ethernet path (1500-byte MTU less IP and TCP headers with timestamps). */
const TCP_SEGMENT_BYTES = 1448;

/** Why a datagram did not arrive. */
export type DropReason = 'loss' | 'queue-full' | 'link-down';

/**
 * One direction of a link. Datagrams (UDP) may be lost, dropped at a full queue or while the
 * link is down, and jitter may reorder them, as on a real line. A byte stream (TCP) cannot
 * lose bytes: a lost segment costs the sender a retransmission, about one round trip later,
 * and everything behind it waits (head-of-line blocking) — so stream chunks are never dropped,
 * a "lost" chunk arrives one RTT late and no chunk overtakes an earlier one.
 */
export class LinkDirection {
  private lineFreeAt = 0;
  private msPerByte: number;
  private profile: LinkProfile;
  private lossProcess: LossProcess;
  private readonly random: RandomSource;
  /** While true everything is dropped (datagrams) or held (streams, by the relay). */
  down = false;

  constructor(profile: LinkProfile, random: RandomSource) {
    this.random = random;
    this.profile = profile;
    this.msPerByte = profile.bitsPerSecond ? 8_000 / profile.bitsPerSecond : 0;
    this.lossProcess = new LossProcess(profile.loss, random);
  }

  /** Changes the link's shaping from now on (what is already on the line keeps its times). */
  reshape(profile: LinkProfile): void {
    this.profile = profile;
    this.msPerByte = profile.bitsPerSecond ? 8_000 / profile.bitsPerSecond : 0;
    this.lossProcess = new LossProcess(profile.loss, this.random);
  }

  get oneWayMs(): number {
    return this.profile.roundTripMs / 2;
  }

  private jitter(): number {
    const jitter = this.profile.jitterMs ?? 0;
    return jitter > 0 ? (this.random() * 2 - 1) * jitter : 0;
  }

  /** When a datagram of `bytes` sent at `now` arrives, or why it does not. */
  datagram(now: number, bytes: number): { arrival: number } | { dropped: DropReason } {
    if (this.down) return { dropped: 'link-down' };
    const start = Math.max(now, this.lineFreeAt);
    if (start - now > (this.profile.queueMs ?? 300)) return { dropped: 'queue-full' };
    // A packet lost on the way still took its time on the line.
    this.lineFreeAt = start + bytes * this.msPerByte;
    if (this.lossProcess.lost()) return { dropped: 'loss' };
    return { arrival: Math.max(this.lineFreeAt, this.lineFreeAt + this.oneWayMs + this.jitter()) };
  }

  /**
   * When a stream chunk of `bytes` sent at `now` arrives: never dropped, one round trip later
   * when the link "loses" it, and not before `notBefore` (its connection's previous chunk: a
   * stream is delivered in order). Not called while the link is down (the relay holds the
   * chunks and sends them once it is up).
   */
  streamChunk(now: number, bytes: number, notBefore = 0): number {
    this.lineFreeAt = Math.max(now, this.lineFreeAt) + bytes * this.msPerByte;
    // A chunk is as many segments as it fills; losing any of them costs the retransmission.
    let lost = false;
    for (let segment = 0; segment < Math.ceil(bytes / TCP_SEGMENT_BYTES); segment += 1) {
      if (this.lossProcess.lost()) lost = true;
    }
    const retransmission = lost ? this.profile.roundTripMs : 0;
    return Math.max(notBefore, this.lineFreeAt + this.oneWayMs + this.jitter() + retransmission);
  }
}
