import { describe, expect, it } from 'vitest';
import { awaitsResume, type Presence } from './conference-presence.ts';

const presence = (suspendedAt?: string): Presence => ({
  participant: {
    participantId: '00000000-0000-4000-8000-000000000001',
    accountId: 'account',
    displayName: '佐藤 花子',
    siteId: 'aoshima',
    siteNameJa: '青島町立病院',
    siteNameEn: 'Aoshima Town Hospital',
    joinedAt: '2026-12-06T08:00:00.000Z',
  },
  socketId: 'socket',
  ...(suspendedAt ? { suspendedAt } : {}),
});

describe('a suspended presence', () => {
  const now = Date.parse('2026-12-06T09:00:00.000Z');

  it('awaits its resume during the grace period only', () => {
    expect(awaitsResume(presence('2026-12-06T08:59:45.000Z'), 30_000, now)).toBe(true);
    expect(awaitsResume(presence('2026-12-06T08:59:15.000Z'), 30_000, now)).toBe(false);
  });

  it('is not awaited when it was never suspended', () => {
    expect(awaitsResume(presence(), 30_000, now)).toBe(false);
  });
});
