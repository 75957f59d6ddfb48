import { describe, expect, it } from 'vitest';
import { iceRestartDelayMs } from './ice-restart-delay.ts';

describe('ICE restart pauses', () => {
  it('grow, then stay at ten seconds', () => {
    expect([0, 1, 2, 3, 4, 10].map(iceRestartDelayMs)).toEqual([2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
  });
});
