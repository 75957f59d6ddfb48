import { describe, expect, it } from 'vitest';
import { audioContinuity, type AudioSample } from './audio-continuity.ts';

/** Samples every 250 ms; `realPerStep[i]` real samples and `concealedPerStep[i]` made-up ones in step i. */
function record(realPerStep: number[], concealedPerStep: number[] = []): AudioSample[] {
  const samples: AudioSample[] = [{ at: 0, totalSamplesReceived: 0, concealedSamples: 0 }];
  realPerStep.forEach((real, index) => {
    const previous = samples.at(-1)!;
    const concealed = concealedPerStep[index] ?? 12_000 - real;
    samples.push({
      at: (index + 1) * 250,
      totalSamplesReceived: previous.totalSamplesReceived + real + concealed,
      concealedSamples: previous.concealedSamples + concealed,
    });
  });
  return samples;
}

const full = 12_000; // 250 ms at 48 kHz

describe('audio continuity', () => {
  it('finds no gap in steady audio and says when it started', () => {
    const result = audioContinuity(record([0, 0, full, full, full, full]));
    expect(result).toMatchObject({ longestGapMs: 0, firstAudioAt: 750 });
  });

  it('measures the longest run of concealed audio after the first real audio', () => {
    // 1.25 s concealed, then 0.5 s concealed.
    const result = audioContinuity(record([full, full, 0, 0, 0, 0, 0, full, 0, 0, full]));
    expect(result.longestGapMs).toBe(1_250);
    expect(result.longestGapAt).toBe(500);
    expect(result.concealmentRatio).toBeCloseTo(7 / 11);
  });

  it('counts a few packets in a burst of loss as still silent', () => {
    const result = audioContinuity(record([full, 0, 1_000, 0, full]));
    expect(result.longestGapMs).toBe(750);
  });

  it('leaves out gaps during a cut outage, but not those outside it', () => {
    const samples = record([full, 0, 0, 0, 0, 0, 0, full, full, 0, 0, 0, full]);
    expect(audioContinuity(samples).longestGapMs).toBe(1_500);
    const result = audioContinuity(samples, { excluded: [{ from: 400, to: 1_600 }] });
    expect(result.longestGapMs).toBe(750);
  });

  it('counts a gap still open at the end of the record', () => {
    expect(audioContinuity(record([full, full, 0, 0, 0, 0, 0])).longestGapMs).toBe(1_250);
  });
});
