import { describe, expect, it } from 'vitest';
import {
  isSessionStudy,
  joinRefusal,
  mayAttachCase,
  mayControlFloor,
  mayExportSessionRecord,
  mayManageCallMedia,
  mayPostInChat,
  mayShareStudies,
  mayStartRecording,
} from './access-policy.ts';
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
    recordingAllowed: false,
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

describe('the call: floor, chat, removal, record and recording', () => {
  const host = account(['specialist'], 'hub');
  const doctor = account(['site-doctor'], 'island');
  const observer = account(['observer'], 'island');
  const hubCoordinator = account(['coordinator'], 'hub');
  const islandCoordinator = account(['coordinator'], 'island');
  const admin = account(['admin'], 'hub');
  const live = session(host.id, [doctor.id, observer.id, islandCoordinator.id], -10 * 60_000);

  it('gives the floor to the host alone', () => {
    expect(mayControlFloor(host, live)).toBe(true);
    for (const other of [doctor, observer, hubCoordinator, islandCoordinator, admin]) {
      expect(mayControlFloor(other, live)).toBe(false);
    }
    expect(mayControlFloor({ ...host, active: false }, live)).toBe(false);
  });

  it('keeps a removed account out, invited or admitted, until the host lets it back', () => {
    const standing = { admitted: false, removed: false };
    expect(joinRefusal(doctor, live, { ...standing, now })).toBeNull();
    expect(joinRefusal(doctor, live, { admitted: false, removed: true, now })).toBe('removed');
    expect(joinRefusal(hubCoordinator, live, { admitted: true, removed: true, now })).toBe('removed');
    expect(joinRefusal(hubCoordinator, live, { admitted: true, removed: false, now })).toBeNull();
    // Other refusals come first: a removed account of an ended session is refused for that.
    const over = session(host.id, [doctor.id], -3 * hour);
    expect(joinRefusal(doctor, over, { admitted: false, removed: true, now })).toBe('not-live');
  });

  it('lets everyone in the call chat, observers too, and links only the session’s studies', () => {
    expect(mayPostInChat(observer)).toBe(true);
    expect(mayPostInChat({ ...doctor, active: false })).toBe(false);
    const withCase = {
      ...live,
      cases: [
        {
          id: crypto.randomUUID(),
          patientRef: 'P-1',
          summary: '',
          studyInstanceUids: ['1.2.392.1', '1.2.392.2'],
          consent: { documentNumber: 'IC-1', recordedBy: '医師', recordedAt: now.toISOString() },
          patientSiteId: null,
          deidentifyOutsidePatientSite: false,
          attachedByAccountId: host.id,
          attachedAt: now.toISOString(),
        },
      ],
    };
    expect(isSessionStudy(withCase, '1.2.392.2')).toBe(true);
    expect(isSessionStudy(withCase, '1.2.392.3')).toBe(false);
    expect(isSessionStudy(live, '1.2.392.1')).toBe(false);
  });

  it('lets the host and whoever manages the session export its record, at any time', () => {
    const over = session(host.id, [doctor.id], -3 * hour);
    for (const candidate of [live, over]) {
      expect(mayExportSessionRecord(host, candidate, 'hub')).toBe(true);
      expect(mayExportSessionRecord(hubCoordinator, candidate, 'hub')).toBe(true);
      expect(mayExportSessionRecord(admin, candidate, 'hub')).toBe(true);
      expect(mayExportSessionRecord(islandCoordinator, candidate, 'hub')).toBe(false);
      expect(mayExportSessionRecord(doctor, candidate, 'hub')).toBe(false);
    }
    expect(mayExportSessionRecord({ ...host, active: false }, live, 'hub')).toBe(false);
  });

  it('lets a recording start only while live and only when allowed', () => {
    expect(mayStartRecording(live, now)).toBe(false);
    expect(mayStartRecording({ ...live, recordingAllowed: true }, now)).toBe(true);
    expect(mayStartRecording({ ...session(host.id, [], 24 * hour), recordingAllowed: true }, now)).toBe(false);
    expect(mayStartRecording({ ...live, recordingAllowed: true, status: 'cancelled' }, now)).toBe(false);
  });
});
