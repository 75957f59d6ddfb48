import { describe, expect, it } from 'vitest';
import {
  dayLabel,
  daysOf,
  monthWeeks,
  tokyoClock,
  tokyoDay,
  tokyoDayStart,
  weekDays,
  weekStart,
} from './calendar-grid.ts';

describe('Japan-time calendar days', () => {
  it('puts instants on their Tokyo day, not the UTC one', () => {
    expect(tokyoDay('2026-11-30T15:00:00Z')).toBe('2026-12-01');
    expect(tokyoDay('2026-11-30T14:59:59Z')).toBe('2026-11-30');
    expect(tokyoDayStart('2026-12-01').toISOString()).toBe('2026-11-30T15:00:00.000Z');
    expect(tokyoClock('2026-12-01T01:30:00Z')).toBe('10:30');
  });

  it('starts weeks on Monday and covers months with whole weeks', () => {
    expect(weekStart('2026-12-06')).toBe('2026-11-30');
    expect(weekDays('2026-12-02')).toEqual([
      '2026-11-30',
      '2026-12-01',
      '2026-12-02',
      '2026-12-03',
      '2026-12-04',
      '2026-12-05',
      '2026-12-06',
    ]);
    const weeks = monthWeeks('2026-12-15');
    expect(weeks[0]![0]).toBe('2026-11-30');
    expect(weeks.at(-1)!.at(-1)).toBe('2027-01-03');
    expect(weeks.flat()).toContain('2026-12-31');
  });

  it('spreads a session past midnight over both days', () => {
    expect(daysOf('2026-12-01T13:00:00Z', '2026-12-01T16:00:00Z')).toEqual(['2026-12-01', '2026-12-02']);
    expect(daysOf('2026-12-01T01:00:00Z', '2026-12-01T15:00:00Z')).toEqual(['2026-12-01']);
  });

  it('labels days in Japanese and English', () => {
    expect(dayLabel('2026-12-01', 'ja')).toBe('12月1日(火)');
    expect(dayLabel('2026-12-01', 'en')).toBe('Tue 1 Dec');
  });
});
