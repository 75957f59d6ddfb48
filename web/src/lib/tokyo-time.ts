import type { Language } from './i18n.ts';

/** Times are stored in UTC and always shown in Japan time, whatever the browser's zone. */
export const DISPLAY_TIME_ZONE = 'Asia/Tokyo';

export function formatTokyoRange(startsAt: string, endsAt: string, language: Language): string {
  const locale = language === 'ja' ? 'ja-JP' : 'en-GB';
  const day = new Intl.DateTimeFormat(locale, {
    timeZone: DISPLAY_TIME_ZONE,
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });
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
  return new Intl.DateTimeFormat(language === 'ja' ? 'ja-JP' : 'en-GB', {
    timeZone: DISPLAY_TIME_ZONE,
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(instant));
}
