import { describe, expect, it } from 'vitest';
import { mayAttachCase, mayManageCallMedia, mayShareStudies } from './access-policy.ts';
import type { Account, Role, Session } from './records.ts';

const now = new Date('2030-04-01T01:00:00Z');
const hour = 3600_000;

function account(roles: Role[], siteId: string, id = crypto.randomUUID()): Account {
  return {
    id,
    username: `u${id.slice(0, 8)}`,
    displayName: '試験 利用者',
    siteId,
    roles,
    passwordHash: 'scrypt$x',
    active: true,
    mustChangePassword: false,
    totp: null,
    createdAt: now.toISOString(),
  };
}

function session(hostAccountId: string, invitedAccountIds: string[], startsInMs: number): Session {
  return {
    id: crypto.randomUUID(),
    title: '合同カンファレンス',
    description: '',
    startsAt: new Date(now.getTime() + startsInMs).toISOString(),
    endsAt: new Date(now.getTime() + startsInMs + hour).toISOString(),
    hostAccountId,
    invitedSiteIds: [],
    invitedAccountIds,
    status: 'scheduled',
    cases: [],
    sequence: 0,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

describe('attaching cases and sharing studies', () => {
  const host = account(['specialist'], 'hub');
  const islandCoordinator = account(['coordinator'], 'island');
  const islandDoctor = account(['site-doctor'], 'island');
  const strangerCoordinator = account(['coordinator'], 'island');
  const invited = [islandCoordinator.id, islandDoctor.id];

  it('lets the host, coordinators and admins share, not other participants', () => {
    const live = session(host.id, invited, -10 * 60_000);
    expect(mayShareStudies(host, live)).toBe(true);
    expect(mayShareStudies(islandCoordinator, live)).toBe(true);
    expect(mayShareStudies(islandDoctor, live)).toBe(false);
    expect(mayShareStudies({ ...host, active: false }, live)).toBe(false);
  });

  it('lets a sharer in the live session attach a case, but not before it or uninvited', () => {
    const live = session(host.id, invited, -10 * 60_000);
    const tomorrow = session(host.id, invited, 24 * hour);
    // The island coordinator does not manage the hub's session, but shares into it while live.
    expect(mayAttachCase(islandCoordinator, live, 'hub', now)).toBe(true);
    expect(mayAttachCase(islandCoordinator, tomorrow, 'hub', now)).toBe(false);
    expect(mayAttachCase(strangerCoordinator, live, 'hub', now)).toBe(false);
    expect(mayAttachCase(islandDoctor, live, 'hub', now)).toBe(false);
    // The host (a specialist, not a coordinator) shares while live.
    expect(mayAttachCase(host, live, 'hub', now)).toBe(true);
    expect(mayAttachCase(host, tomorrow, 'hub', now)).toBe(false);
    // Coordinators of the host's site manage the session, live or not.
    expect(mayAttachCase(account(['coordinator'], 'hub'), tomorrow, 'hub', now)).toBe(true);
  });
});

describe("running the call's media", () => {
  it('is for the host alone: not coordinators, admins or other participants', () => {
    const host = account(['specialist'], 'hub');
    const coordinator = account(['coordinator'], 'hub');
    const admin = account(['admin'], 'hub');
    const doctor = account(['site-doctor'], 'island');
    const live = session(host.id, [coordinator.id, admin.id, doctor.id], -10 * 60_000);
    expect(mayManageCallMedia(host, live)).toBe(true);
    for (const other of [coordinator, admin, doctor]) expect(mayManageCallMedia(other, live)).toBe(false);
    expect(mayManageCallMedia({ ...host, active: false }, live)).toBe(false);
  });
});
