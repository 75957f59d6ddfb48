import { describe, expect, it } from 'vitest';
import { iceRestartDelayMs } from './ice-restart-delay.ts';

describe('ICE restart pauses', () => {
  it('grow, then stay at five seconds', () => {
    expect([0, 1, 2, 3, 10].map(iceRestartDelayMs)).toEqual([2_000, 4_000, 5_000, 5_000, 5_000]);
  });
});
