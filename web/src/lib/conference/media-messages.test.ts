import { describe, expect, it } from 'vitest';
import { languages } from '#lib/i18n.ts';
import { fill, formatBitrate, formatPercent, mediaMessages, qualityLevelLabel } from './media-messages.ts';

describe('the words of the call’s media', () => {
  it('fill their placeholders in both languages', () => {
    expect(fill(mediaMessages('ja').screenShareOf, { name: '佐藤 花子' })).toBe('佐藤 花子 の共有画面');
    expect(fill(mediaMessages('en').pageOf, { page: 2, count: 3 })).toBe('Page 2 of 3');
    // An unknown placeholder stays visible rather than vanishing.
    expect(fill('{who}', {})).toBe('{who}');
  });

  it('name every quality level differently, in both languages', () => {
    for (const language of languages) {
      const words = mediaMessages(language);
      const labels = (['good', 'fair', 'poor', 'unknown'] as const).map((level) => qualityLevelLabel(words, level));
      expect(new Set(labels).size).toBe(4);
    }
  });

  it('write bitrates and loss as people read them', () => {
    const words = mediaMessages('ja');
    expect(formatBitrate(null, words)).toBe('—');
    expect(formatBitrate(420, words)).toBe('420 kbps');
    expect(formatBitrate(1500, words)).toBe('1.5 Mbps');
    expect(formatPercent(2.25, words)).toBe('2.3 %');
  });
});
