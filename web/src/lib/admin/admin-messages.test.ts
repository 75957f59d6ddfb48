import { describe, expect, it } from 'vitest';
import { roles, siteKinds } from '@telemed/domain';
import { adminMessages, formatAuditTime, kindChoices, roleChoices, roleLabel, siteName } from './admin-messages.ts';

describe('admin words', () => {
  it('offers every role and site kind of the domain, named in both languages', () => {
    expect([...roleChoices].sort()).toEqual([...roles].sort());
    expect([...kindChoices].sort()).toEqual([...siteKinds].sort());
    expect(roleLabel(adminMessages('ja'), 'site-doctor')).toBe('施設医師');
    expect(roleLabel(adminMessages('en'), 'site-doctor')).toBe('Site doctor');
    const ja = adminMessages('ja');
    const en = adminMessages('en');
    expect(Object.keys(en).sort()).toEqual(Object.keys(ja).sort());
    for (const key of Object.keys(ja) as (keyof typeof ja)[]) expect(en[key].length).toBeGreaterThan(0);
  });

  it('shows audit times in Japan time with seconds, in Japanese date order when Japanese', () => {
    expect(formatAuditTime('2026-12-31T15:30:05Z', 'ja')).toBe('2027年1月1日 00:30:05');
    expect(formatAuditTime('2026-12-31T15:30:05Z', 'en')).toBe('1 Jan 2027, 00:30:05');
    expect(formatAuditTime('not a time', 'en')).toBe('not a time');
  });

  it('names a site in the UI language, or by id when it is gone', () => {
    const sites = [{ id: 'aoshima', nameJa: '青島町立病院', nameEn: 'Aoshima Town Hospital' }];
    expect(siteName(sites, 'aoshima', 'ja')).toBe('青島町立病院');
    expect(siteName(sites, 'aoshima', 'en')).toBe('Aoshima Town Hospital');
    expect(siteName(sites, 'gone', 'en')).toBe('gone');
  });
});
