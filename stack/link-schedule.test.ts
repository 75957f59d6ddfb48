import { describe, expect, it } from 'vitest';
import { LinkDirection, LossProcess, seededRandom, type LinkLoss } from './link-schedule.ts';

/** Loss decisions for `count` packets: the share lost and the mean length of a run of losses. */
function lossPattern(loss: LinkLoss, count: number, seed = 7): { ratio: number; meanBurst: number } {
  const process = new LossProcess(loss, seededRandom(seed));
  let lost = 0;
  let bursts = 0;
  let previous = false;
  for (let packet = 0; packet < count; packet += 1) {
    const now = process.lost();
    if (now) lost += 1;
    if (now && !previous) bursts += 1;
    previous = now;
  }
  return { ratio: lost / count, meanBurst: bursts ? lost / bursts : 0 };
}

describe('link schedule', () => {
  it('serialises chunks at the link rate, then adds the one-way delay', () => {
    // 8 Mbit/s: one byte takes 1 µs on the line; 40 ms round trip: 20 ms each way.
    const direction = new LinkDirection({ name: 't', bitsPerSecond: 8e6, roundTripMs: 40 }, seededRandom(1));
    expect(direction.streamChunk(0, 1_000)).toBeCloseTo(1 + 20);
    // Sent while the line is still busy: it waits for the first chunk to be on the wire.
    expect(direction.streamChunk(0.5, 1_000)).toBeCloseTo(2 + 20);
    // Sent after the line went idle: it starts at once.
    expect(direction.streamChunk(100, 500)).toBeCloseTo(100.5 + 20);
    // Datagrams share the same line.
    expect(direction.datagram(200, 1_000)).toEqual({ arrival: expect.closeTo(201 + 20) as number });
  });

  it('gives the same loss pattern for the same seed', () => {
    const draw = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 5 }, () => random());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    for (const value of draw(9)) expect(value >= 0 && value < 1).toBe(true);
  });

  it('loses about 1 % of packets one at a time with random loss', () => {
    const { ratio, meanBurst } = lossPattern({ kind: 'random', probability: 0.01 }, 200_000);
    expect(ratio).toBeGreaterThan(0.009);
    expect(ratio).toBeLessThan(0.011);
    expect(meanBurst).toBeLessThan(1.05);
  });

  it('loses about 2 % of packets in bursts with Gilbert–Elliott loss', () => {
    // Bad 2.4 % of the time, losing 80 % there: ≈ 1.95 %; bursts of ~5 packets in the bad state.
    const { ratio, meanBurst } = lossPattern(
      { kind: 'gilbert-elliott', goodToBad: 0.005, badToGood: 0.2, lossInBad: 0.8 },
      400_000,
    );
    expect(ratio).toBeGreaterThan(0.016);
    expect(ratio).toBeLessThan(0.024);
    expect(meanBurst).toBeGreaterThan(2.5);
  });

  it('drops datagrams at a full bottleneck queue, and everything while the link is down', () => {
    // 1 Mbit/s: a 1 000-byte datagram takes 8 ms on the line; the queue holds 100 ms.
    const direction = new LinkDirection(
      { name: 't', bitsPerSecond: 1e6, roundTripMs: 0, queueMs: 100 },
      seededRandom(1),
    );
    const fates = Array.from({ length: 20 }, () => direction.datagram(0, 1_000));
    // Sent at once: the 13 that start within 100 ms pass (0, 8, … 96 ms), the rest are dropped.
    expect(fates.filter((fate) => 'arrival' in fate)).toHaveLength(13);
    expect(fates.slice(13)).toEqual(Array(7).fill({ dropped: 'queue-full' }));
    // Once the queue has drained, datagrams pass again.
    expect(direction.datagram(1_000, 1_000)).toEqual({ arrival: expect.closeTo(1_008) as number });
    direction.down = true;
    expect(direction.datagram(2_000, 100)).toEqual({ dropped: 'link-down' });
    direction.down = false;
    expect('arrival' in direction.datagram(2_000, 100)).toBe(true);
  });

  it('never drops stream chunks: a lost one comes one round trip late and holds up the ones behind it', () => {
    // Every chunk is lost: each is retransmitted once, a round trip (600 ms) later.
    const direction = new LinkDirection(
      { name: 'geo', roundTripMs: 600, loss: { kind: 'random', probability: 1 } },
      seededRandom(1),
    );
    const first = direction.streamChunk(0, 100);
    expect(first).toBeCloseTo(300 + 600);
    // No loss any more: the next chunk on the same connection still waits for the first.
    direction.reshape({ name: 'geo', roundTripMs: 600 });
    expect(direction.streamChunk(10, 100, first)).toBe(first);
    // Another connection (nothing before it) is not held up.
    expect(direction.streamChunk(10, 100)).toBeCloseTo(310);
  });

  it('loses a large stream chunk when any of its segments is lost', () => {
    // 10 % per segment: a 100-segment chunk is practically always hit, a 1-segment one rarely.
    const late = (bytes: number) => {
      const direction = new LinkDirection(
        { name: 't', roundTripMs: 100, loss: { kind: 'random', probability: 0.1 } },
        seededRandom(5),
      );
      return Array.from(
        { length: 200 },
        (_, index) => direction.streamChunk(index * 1_000, bytes) - index * 1_000,
      ).filter((delay) => delay > 50).length;
    };
    expect(late(100 * 1448)).toBe(200);
    expect(late(100)).toBeLessThan(40);
  });

  it('spreads datagrams by the jitter around the one-way delay, reordering some', () => {
    const direction = new LinkDirection({ name: 't', roundTripMs: 80, jitterMs: 10 }, seededRandom(3));
    const arrivals = Array.from({ length: 1_000 }, (_, index) => {
      const fate = direction.datagram(index, 100);
      if (!('arrival' in fate)) throw new Error('dropped');
      return fate.arrival - index;
    });
    expect(Math.min(...arrivals)).toBeGreaterThanOrEqual(30);
    expect(Math.max(...arrivals)).toBeLessThanOrEqual(50);
    expect(new Set(arrivals.map(Math.round)).size).toBeGreaterThan(10);
  });
});
