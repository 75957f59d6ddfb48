import { describe, expect, it } from 'vitest';
import {
  formatPrefetchBytes,
  prefetchInProgress,
  prefetchProgressLabel,
  prefetchStateLabel,
  type StudyPrefetchView,
} from './study-prefetch-display.ts';

const view = (state: StudyPrefetchView['state'], attempts = 0): StudyPrefetchView => ({
  state,
  attempts,
  instances: 1234,
  bytes: 5 * 1024 ** 2 + 512 * 1024,
});

describe('study prefetch display', () => {
  it('names each state in Japanese and English', () => {
    expect(prefetchStateLabel(view('done'), 'ja')).toBe('準備済み');
    expect(prefetchStateLabel(view('fetching'), 'ja')).toBe('取得中');
    expect(prefetchStateLabel(view('queued'), 'ja')).toBe('待機中');
    expect(prefetchStateLabel(view('queued', 2), 'ja')).toBe('待機中（再試行 2 回目）');
    expect(prefetchStateLabel(view('failed', 8), 'ja')).toBe('失敗');
    expect(prefetchStateLabel(undefined, 'ja')).toBe('未登録');
    expect(prefetchStateLabel(view('done'), 'en')).toBe('Ready');
    expect(prefetchStateLabel(view('queued', 2), 'en')).toBe('Waiting (retry 2)');
    expect(prefetchStateLabel(view('failed'), 'en')).toBe('Failed');
  });

  it('shows sizes for people', () => {
    expect(formatPrefetchBytes(0, 'ja')).toBe('0 B');
    expect(formatPrefetchBytes(1023, 'en')).toBe('1,023 B');
    expect(formatPrefetchBytes(1536, 'en')).toBe('1.5 KB');
    expect(formatPrefetchBytes(250 * 1024 ** 2, 'en')).toBe('250 MB');
    expect(formatPrefetchBytes(3 * 1024 ** 3, 'ja')).toBe('3 GB');
    expect(prefetchProgressLabel(view('fetching'), 'ja')).toBe('1,234 画像・5.5 MB');
    expect(prefetchProgressLabel(view('fetching'), 'en')).toBe('1,234 images, 5.5 MB');
  });

  it('keeps refreshing only while something is waiting or in transit', () => {
    expect(prefetchInProgress([view('done'), view('failed')])).toBe(false);
    expect(prefetchInProgress([view('done'), view('queued', 1)])).toBe(true);
    expect(prefetchInProgress([])).toBe(false);
  });
});
