import { describe, expect, it } from 'vitest';
import { fillIn, signinMessages } from './signin-messages.ts';
import { formatUnlockTime, minutesToWait } from './unlock-time.ts';

describe('sign-in protection words', () => {
  it('has every message in both languages', () => {
    const ja = signinMessages('ja');
    const en = signinMessages('en');
    expect(Object.keys(en).sort()).toEqual(Object.keys(ja).sort());
    for (const text of [...Object.values(ja), ...Object.values(en)]) expect(text.trim()).not.toBe('');
  });

  it('fills in placeholders and leaves unknown ones visible', () => {
    expect(fillIn(signinMessages('en').rateLimited, { minutes: 4 })).toBe(
      'Too many sign-in attempts. Try again in about 4 minutes.',
    );
    expect(fillIn('{time} {other}', { time: '14:35' })).toBe('14:35 {other}');
  });

  it('shows the unlock time in Japan time whatever the zone of the server', () => {
    expect(formatUnlockTime('2026-06-03T05:35:00.000Z', 'ja')).toBe('6月3日 14:35 (JST)');
    expect(formatUnlockTime('2026-06-03T23:05:00.000Z', 'en')).toBe('4 Jun, 08:05 (JST)');
  });

  it('rounds the wait up to whole minutes', () => {
    expect(minutesToWait(1)).toBe(1);
    expect(minutesToWait(60)).toBe(1);
    expect(minutesToWait(61)).toBe(2);
  });
});
