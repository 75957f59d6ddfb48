import { describe, expect, it } from 'vitest';
import { deviceStatusOf, meterLevel } from './device-status.ts';

const named = (name: string) => Object.assign(new Error(name), { name });

describe('camera and microphone status', () => {
  it('turns getUserMedia’s errors into what the user can do about them', () => {
    expect(deviceStatusOf(named('NotAllowedError'))).toBe('denied');
    expect(deviceStatusOf(named('SecurityError'))).toBe('denied');
    expect(deviceStatusOf(named('NotFoundError'))).toBe('missing');
    expect(deviceStatusOf(named('OverconstrainedError'))).toBe('missing');
    expect(deviceStatusOf(named('NotReadableError'))).toBe('busy');
    expect(deviceStatusOf(named('TypeError'))).toBe('failed');
    expect(deviceStatusOf(null)).toBe('failed');
  });

  it('shows the microphone level in decibels between silence and full scale', () => {
    expect(meterLevel(0)).toBe(0);
    expect(meterLevel(Number.NaN)).toBe(0);
    expect(meterLevel(0.0001)).toBe(0);
    expect(meterLevel(0.001)).toBeCloseTo(0);
    expect(meterLevel(0.01)).toBeCloseTo(1 / 3);
    expect(meterLevel(0.1)).toBeCloseTo(2 / 3);
    expect(meterLevel(1)).toBe(1);
    expect(meterLevel(2)).toBe(1);
  });
});
