import type { Language } from '../i18n.ts';
import { scheduleMessages } from './schedule-messages.ts';

/** What the session page shows of one Study's prefetch (a StudyPrefetchJob without internals). */
export interface StudyPrefetchView {
  state: 'queued' | 'fetching' | 'done' | 'failed';
  attempts: number;
  instances: number;
  bytes: number;
}

const units = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/** A byte count for people, in powers of 1024 with at most one decimal: 「12.5 MB」. */
export function formatPrefetchBytes(bytes: number, language: Language): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const number = new Intl.NumberFormat(language === 'ja' ? 'ja-JP' : 'en-GB', {
    maximumFractionDigits: unit === 0 || value >= 100 ? 0 : 1,
  }).format(value);
  return `${number} ${units[unit]}`;
}

/** 「準備済み」「取得中」「待機中（再試行 n 回目）」「失敗」, or 「未登録」 when no job exists. */
export function prefetchStateLabel(view: StudyPrefetchView | undefined, language: Language): string {
  const s = scheduleMessages(language);
  if (!view) return s.prefetchNotQueued;
  switch (view.state) {
    case 'done':
      return s.prefetchDone;
    case 'fetching':
      return s.prefetchFetching;
    case 'failed':
      return s.prefetchFailed;
    case 'queued':
      // `attempts` counts attempts started, so the next one is retry number `attempts`.
      return view.attempts > 0 ? s.prefetchRetrying.replace('{n}', String(view.attempts)) : s.prefetchQueued;
  }
}

/** 「12 画像・3.4 MB」 / "12 images, 3.4 MB". */
export function prefetchProgressLabel(view: StudyPrefetchView, language: Language): string {
  return scheduleMessages(language)
    .prefetchProgress.replace(
      '{instances}',
      new Intl.NumberFormat(language === 'ja' ? 'ja-JP' : 'en-GB').format(view.instances),
    )
    .replace('{bytes}', formatPrefetchBytes(view.bytes, language));
}

/** Whether the page should keep refreshing: something is still waiting or in transit. */
export function prefetchInProgress(views: Iterable<StudyPrefetchView>): boolean {
  for (const view of views) if (view.state === 'queued' || view.state === 'fetching') return true;
  return false;
}
