import { DISPLAY_TIME_ZONE } from '../tokyo-time.ts';

/**
 * Calendar arithmetic on Japan-time calendar days ("2026-12-01"), whatever zone the server or
 * browser runs in. A day key is an ISO date; JST has no daylight saving, so every Tokyo day is
 * exactly 24 hours and starts at 15:00 UTC the day before.
 */

const TOKYO_OFFSET_MS = 9 * 3600_000;
const DAY_MS = 24 * 3600_000;

export type DayKey = string;

export function isDayKey(value: string | null): value is DayKey {
  return value !== null && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
}

/** The Tokyo calendar day of an instant. */
export function tokyoDay(instant: Date | string): DayKey {
  return new Date(new Date(instant).getTime() + TOKYO_OFFSET_MS).toISOString().slice(0, 10);
}

/** The instant a Tokyo day starts. */
export function tokyoDayStart(day: DayKey): Date {
  return new Date(Date.parse(`${day}T00:00:00Z`) - TOKYO_OFFSET_MS);
}

export function addDays(day: DayKey, days: number): DayKey {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Monday of the day's week (weeks start on Monday, as Japanese business calendars usually do). */
export function weekStart(day: DayKey): DayKey {
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
  return addDays(day, -((weekday + 6) % 7));
}

export function monthStart(day: DayKey): DayKey {
  return `${day.slice(0, 7)}-01`;
}

export function addMonths(day: DayKey, months: number): DayKey {
  const date = new Date(`${monthStart(day)}T00:00:00Z`);
  date.setUTCMonth(date.getUTCMonth() + months);
  return date.toISOString().slice(0, 10);
}

/** The days shown for a week view. */
export function weekDays(day: DayKey): DayKey[] {
  const first = weekStart(day);
  return Array.from({ length: 7 }, (_, index) => addDays(first, index));
}

/** Whole weeks (Monday first) covering the day's month, for a month view. */
export function monthWeeks(day: DayKey): DayKey[][] {
  const first = weekStart(monthStart(day));
  const nextMonth = addMonths(day, 1);
  const weeks: DayKey[][] = [];
  for (let start = first; start < nextMonth; start = addDays(start, 7)) {
    weeks.push(Array.from({ length: 7 }, (_, index) => addDays(start, index)));
  }
  return weeks;
}

/** The Tokyo days a session touches (a session may run past midnight). */
export function daysOf(startsAt: string, endsAt: string): DayKey[] {
  const days: DayKey[] = [];
  const last = tokyoDay(new Date(Date.parse(endsAt) - 1));
  for (let day = tokyoDay(startsAt); day <= last; day = addDays(day, 1)) days.push(day);
  return days;
}

/** "10:30" in Japan time. */
export function tokyoClock(instant: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: DISPLAY_TIME_ZONE,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(instant));
}

/** A day's heading: 「12月1日(火)」 or "Tue 1 Dec". */
export function dayLabel(day: DayKey, language: 'ja' | 'en', withYear = false): string {
  return new Intl.DateTimeFormat(language === 'ja' ? 'ja-JP' : 'en-GB', {
    timeZone: 'UTC',
    ...(withYear ? { year: 'numeric' } : {}),
    month: language === 'ja' ? 'long' : 'short',
    day: 'numeric',
    weekday: 'short',
  }).format(new Date(`${day}T00:00:00Z`));
}

export function monthLabel(day: DayKey, language: 'ja' | 'en'): string {
  return new Intl.DateTimeFormat(language === 'ja' ? 'ja-JP' : 'en-GB', {
    timeZone: 'UTC',
    year: 'numeric',
    month: 'long',
  }).format(new Date(`${day}T00:00:00Z`));
}

/** 「月」 or "Mon". */
export function weekdayLabel(day: DayKey, language: 'ja' | 'en'): string {
  return new Intl.DateTimeFormat(language === 'ja' ? 'ja-JP' : 'en-GB', { timeZone: 'UTC', weekday: 'short' }).format(
    new Date(`${day}T00:00:00Z`),
  );
}
