import { describe, expect, it } from 'vitest';
import { formatTokyoClock, formatTokyoRange } from './tokyo-time.ts';

describe('formatTokyoRange', () => {
  it('shows UTC times in Japan time, whatever the machine zone', () => {
    // 01:30 UTC is 10:30 JST the same day; 23:00 UTC is 08:00 JST the next day.
    expect(formatTokyoRange('2026-12-01T01:30:00Z', '2026-12-01T03:00:00Z', 'ja')).toBe(
      '2026年12月1日(火) 10:30 – 12:00 (JST)',
    );
    expect(formatTokyoRange('2026-11-30T23:00:00Z', '2026-12-01T00:30:00Z', 'en')).toBe(
      'Tue, 1 Dec 2026, 08:00 – 09:30 (JST)',
    );
  });

  it('names the end day when a session runs past midnight in Tokyo', () => {
    expect(formatTokyoRange('2026-12-01T14:00:00Z', '2026-12-01T16:00:00Z', 'ja')).toBe(
      '2026年12月1日(火) 23:00 – 2026年12月2日(水) 01:00 (JST)',
    );
  });
});

describe('formatTokyoClock', () => {
  it('shows the hour and minute in Japan time, 24-hour', () => {
    expect(formatTokyoClock('2026-12-01T01:05:00Z')).toBe('10:05');
    expect(formatTokyoClock('2026-12-01T15:30:59Z')).toBe('00:30');
  });
});
