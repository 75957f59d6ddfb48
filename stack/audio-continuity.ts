/**
 * Audio continuity from a receiver's WebRTC statistics, sampled every few hundred ms: inbound
 * audio's `totalSamplesReceived` counts every sample played out, `concealedSamples` those the
 * jitter buffer made up because packets were missing. Real audio is their difference; a gap is
 * a run of samples where (almost) no real audio arrived. Pure, for the island-link e2e and
 * `npm run bench:links`.
 */

export interface AudioSample {
  /** Wall-clock ms (the test machine's clock, shared by every browser on it). */
  at: number;
  totalSamplesReceived: number;
  concealedSamples: number;
}

export interface AudioContinuity {
  /** The longest stretch without real audio, in ms (outside the excluded windows). */
  longestGapMs: number;
  /** When that stretch started (wall clock ms), or null when there was none. */
  longestGapAt: number | null;
  /** Concealed samples / samples played over the whole record. */
  concealmentRatio: number;
  /** When real audio first arrived, or null. */
  firstAudioAt: number | null;
}

/**
 * An interval counts as silent when it brought less than `minShare` of the real samples its
 * length should carry at 48 kHz (a few good packets in a burst of loss do not end a gap).
 */
export function audioContinuity(
  samples: AudioSample[],
  options: { excluded?: { from: number; to: number }[]; minShare?: number; sampleRate?: number } = {},
): AudioContinuity {
  const minShare = options.minShare ?? 0.2;
  const rate = options.sampleRate ?? 48_000;
  const excluded = options.excluded ?? [];
  let longestGapMs = 0;
  let longestGapAt: number | null = null;
  let gapStart: number | null = null;
  let firstAudioAt: number | null = null;
  const overlapsCut = (from: number, to: number) => excluded.some((cut) => from < cut.to && to > cut.from);
  for (let index = 1; index < samples.length; index += 1) {
    const before = samples[index - 1]!;
    const now = samples[index]!;
    const real =
      now.totalSamplesReceived - now.concealedSamples - (before.totalSamplesReceived - before.concealedSamples);
    const expected = ((now.at - before.at) / 1000) * rate;
    const silent = real < expected * minShare;
    if (!silent && firstAudioAt === null) firstAudioAt = now.at;
    if (silent && firstAudioAt !== null) {
      gapStart ??= before.at;
    }
    const ending = !silent || index === samples.length - 1;
    if (gapStart !== null && ending) {
      const gapEnd = silent ? now.at : before.at;
      if (!overlapsCut(gapStart, gapEnd) && gapEnd - gapStart > longestGapMs) {
        longestGapMs = gapEnd - gapStart;
        longestGapAt = gapStart;
      }
      if (!silent) gapStart = null;
    }
  }
  const first = samples[0];
  const last = samples.at(-1);
  const played = first && last ? last.totalSamplesReceived - first.totalSamplesReceived : 0;
  const concealed = first && last ? last.concealedSamples - first.concealedSamples : 0;
  return { longestGapMs, longestGapAt, concealmentRatio: played > 0 ? concealed / played : 0, firstAudioAt };
}
