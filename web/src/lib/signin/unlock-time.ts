import type { Language } from '../i18n.ts';
import { DISPLAY_TIME_ZONE } from '../tokyo-time.ts';

/** When a lock ends, as people in Japan read it (e.g. 「6月3日 14:35 (JST)」), whatever the browser's zone. */
export function formatUnlockTime(iso: string, language: Language): string {
  const format = new Intl.DateTimeFormat(language === 'ja' ? 'ja-JP' : 'en-GB', {
    timeZone: DISPLAY_TIME_ZONE,
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
  return `${format.format(new Date(iso))} (JST)`;
}

/** Whole minutes to wait, at least one. */
export function minutesToWait(seconds: number): number {
  return Math.max(1, Math.ceil(seconds / 60));
}
