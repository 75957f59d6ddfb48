import type { Language } from './i18n.ts';

/** Times are stored in UTC and always shown in Japan time, whatever the browser's zone. */
export const DISPLAY_TIME_ZONE = 'Asia/Tokyo';

const localeOf = (language: Language) => (language === 'ja' ? 'ja-JP' : 'en-GB');

/** Date, weekday and time in Japan time, e.g. 「2026年12月1日(火) 10:30」. */
const dayAndTime = (language: Language) =>
  new Intl.DateTimeFormat(localeOf(language), {
    timeZone: DISPLAY_TIME_ZONE,
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });

export function formatTokyoRange(startsAt: string, endsAt: string, language: Language): string {
  const locale = localeOf(language);
  const day = dayAndTime(language);
  const time = new Intl.DateTimeFormat(locale, { timeZone: DISPLAY_TIME_ZONE, hour: '2-digit', minute: '2-digit' });
  const start = new Date(startsAt);
  const end = new Date(endsAt);
  const sameDay =
    start.toLocaleDateString('en-CA', { timeZone: DISPLAY_TIME_ZONE }) ===
    end.toLocaleDateString('en-CA', { timeZone: DISPLAY_TIME_ZONE });
  return `${day.format(start)} – ${sameDay ? time.format(end) : day.format(end)} (JST)`;
}

/** One moment in Japan time, e.g. 「2026年12月1日(火) 10:30」. */
export function formatTokyoTime(instant: string, language: Language): string {
  return dayAndTime(language).format(new Date(instant));
}

const clock = new Intl.DateTimeFormat('en-GB', {
  timeZone: DISPLAY_TIME_ZONE,
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** The time of day in Japan time, e.g. 「10:30」 (a chat message's time; the date is in its title). */
export function formatTokyoClock(instant: string): string {
  return clock.format(new Date(instant));
}
