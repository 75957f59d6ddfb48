import type { Account, Role, Session, SessionCase, SessionStatus } from './records.ts';

/**
 * Who may do what: the one place the rules live. The web pages, the REST API and signaling all
 * ask these functions; the authorisation matrix test (web e2e) runs every role against them
 * through the real server.
 *
 * - Admins manage sites, accounts and the audit trail, and may manage any session, but they are
 *   not let into a conference they were not invited to (they run the system, not the cases).
 * - Coordinators schedule sessions, and manage those they host or whose host works at their
 *   own site (a colleague covering for the organiser).
 * - Everyone may see and join the sessions they host or are invited to (themselves or through
 *   their site); others may knock and wait for the host to admit them.
 * - Observers may watch and listen but not send camera or microphone; they chat and raise
 *   their hand like everyone in the call.
 * - In the call, the host controls the floor: lowers hands, mutes microphones (never unmutes)
 *   and removes participants, who then stay out until the host admits them again.
 */

/** The room opens this long before the scheduled start, for the technical check-in. */
export const ROOM_OPENS_BEFORE_MS = 15 * 60_000;

const has = (account: Pick<Account, 'roles'>, role: Role) => account.roles.includes(role);

/** The session's status at `now`: a scheduled session is live from the room opening until its end. */
export function sessionPhase(session: Session, now: Date = new Date()): SessionStatus {
  if (session.status === 'cancelled' || session.status === 'ended') return session.status;
  const time = now.getTime();
  if (time >= Date.parse(session.endsAt)) return 'ended';
  if (time >= Date.parse(session.startsAt) - ROOM_OPENS_BEFORE_MS) return 'live';
  return 'scheduled';
}

/** Host, invited account, or an account of an invited site. */
export function isInvited(account: Pick<Account, 'id' | 'siteId'>, session: Session): boolean {
  return (
    session.hostAccountId === account.id ||
    session.invitedAccountIds.includes(account.id) ||
    session.invitedSiteIds.includes(account.siteId)
  );
}

export function mayScheduleSessions(account: Account): boolean {
  return account.active && (has(account, 'coordinator') || has(account, 'admin'));
}

/**
 * Edit, reschedule, cancel, invite and attach cases. `hostSiteId` is the host's current site
 * (null when the host account is gone).
 */
export function mayManageSession(account: Account, session: Session, hostSiteId: string | null): boolean {
  if (!account.active) return false;
  if (has(account, 'admin')) return true;
  return has(account, 'coordinator') && (session.hostAccountId === account.id || hostSiteId === account.siteId);
}

/** See the session's details and export it to a calendar. */
export function mayViewSession(account: Account, session: Session, hostSiteId: string | null): boolean {
  return account.active && (isInvited(account, session) || mayManageSession(account, session, hostSiteId));
}

/** See every session in the calendar (titles and times), to plan and spot double bookings. */
export function maySeeAllSessions(account: Account): boolean {
  return mayScheduleSessions(account);
}

export type JoinRefusal = 'inactive' | 'not-live' | 'not-invited' | 'removed';

/** What the waiting room and the host decided about an account in one session (`SessionAdmission.standing`). */
export interface JoinStanding {
  /** Let in by the host from the waiting room. */
  admitted: boolean;
  /** Removed from the call by the host, and not let back in since. */
  removed: boolean;
}

/**
 * Why the account may not enter the room now, or null when it may: the session must be live
 * and the account invited or admitted from the waiting room by the host. An account the host
 * removed stays out for the rest of the session, invited or not, until the host admits it
 * again through the waiting room.
 */
export function joinRefusal(
  account: Account,
  session: Session,
  options: JoinStanding & { now?: Date },
): JoinRefusal | null {
  if (!account.active) return 'inactive';
  if (sessionPhase(session, options.now) !== 'live') return 'not-live';
  if (options.removed) return 'removed';
  if (!isInvited(account, session) && !options.admitted) return 'not-invited';
  return null;
}

/** Ask the host to be let in (the waiting room): any active account while the session is live. */
export function mayKnock(account: Account, session: Session, now: Date = new Date()): boolean {
  return account.active && sessionPhase(session, now) === 'live';
}

/** Admit or reject accounts waiting to enter. */
export function mayAdmit(account: Account, session: Session): boolean {
  return account.active && session.hostAccountId === account.id;
}

/**
 * Run the call's media: allow several screen shares at once, and read every participant's
 * media statistics (who sends and receives what, at which quality). The host, who runs the call.
 */
export function mayManageCallMedia(account: Account, session: Session): boolean {
  return account.active && session.hostAccountId === account.id;
}

/**
 * Lower others' hands, mute their microphones and remove them from the call: the host, like
 * admitting guests. Nobody may unmute someone else: there is no rule for it because there is
 * no way to do it.
 */
export function mayControlFloor(account: Account, session: Session): boolean {
  return mayAdmit(account, session);
}

/**
 * Write in the session's chat: everyone in the call (who is there was checked on joining),
 * observers too — typing is how they ask.
 */
export function mayPostInChat(account: Pick<Account, 'active'>): boolean {
  return account.active;
}

/** Whether a study is one of the session's cases (what a chat message may point to). */
export function isSessionStudy(session: Pick<Session, 'cases'>, studyInstanceUid: string): boolean {
  return session.cases.some((sessionCase) => sessionCase.studyInstanceUids.includes(studyInstanceUid));
}

/**
 * Download the session's record (the session, its cases and its chat), during the session or
 * long after: whoever manages it, and its host.
 */
export function mayExportSessionRecord(account: Account, session: Session, hostSiteId: string | null): boolean {
  return mayManageSession(account, session, hostSiteId) || (account.active && session.hostAccountId === account.id);
}

/**
 * Whether a recording of the call may start now: only while it is live and only when whoever
 * manages the session allowed it. Nothing records yet; whatever will must ask here first, and
 * the room shows every participant a recording banner while it runs.
 */
export function mayStartRecording(session: Session, now: Date = new Date()): boolean {
  return session.recordingAllowed && sessionPhase(session, now) === 'live';
}

/** Send camera and microphone: everyone but pure observers. */
export function mayProduceMedia(account: Pick<Account, 'roles'>): boolean {
  return account.roles.some((role) => role !== 'observer');
}

export function mayManageSites(account: Account): boolean {
  return account.active && has(account, 'admin');
}

/**
 * Change a site's link profile (what the call caps its video to) and nothing else of it:
 * admins, and coordinators, who arrange the calls with the remote sites and know their links
 * (many island clinics have no coordinator of their own, so it is not limited to one's own site).
 */
export function mayChangeSiteLinkProfile(account: Account): boolean {
  return account.active && (has(account, 'admin') || has(account, 'coordinator'));
}

export function mayManageAccounts(account: Account): boolean {
  return account.active && has(account, 'admin');
}

/**
 * See the account directory read-only (names, sites, roles; nothing secret), to invite people:
 * admins, and coordinators who schedule sessions.
 */
export function mayListAccounts(account: Account): boolean {
  return account.active && (has(account, 'admin') || has(account, 'coordinator'));
}

export function mayReadAudit(account: Account): boolean {
  return account.active && has(account, 'admin');
}

/**
 * Whether the account must sign in with a second factor: admins and coordinators, when the
 * deployment requires it (web config TOTP_REQUIRED_FOR_PRIVILEGED). Anyone may opt in.
 */
export function mustUseSecondFactor(account: Pick<Account, 'roles'>, requiredForPrivileged: boolean): boolean {
  return requiredForPrivileged && (has(account, 'admin') || has(account, 'coordinator'));
}

/**
 * Search the PACS sources and share a study into the live session (the room's study browser):
 * those who bring cases — the host, coordinators, admins.
 */
export function mayShareStudies(account: Account, session: Session): boolean {
  return (
    account.active && (session.hostAccountId === account.id || has(account, 'coordinator') || has(account, 'admin'))
  );
}

/**
 * Attach a case (patient reference, studies, consent reference): whoever manages the session,
 * until it is over; and while it is live, a sharer taking part in it (from the study browser).
 */
export function mayAttachCase(
  account: Account,
  session: Session,
  hostSiteId: string | null,
  now: Date = new Date(),
): boolean {
  if (mayManageSession(account, session, hostSiteId)) return true;
  return sessionPhase(session, now) === 'live' && isInvited(account, session) && mayShareStudies(account, session);
}

/** Whether a reader sees a case's studies de-identified: asked for by the case, and read from another site. */
export function readsCaseDeidentified(
  account: Pick<Account, 'siteId'>,
  sessionCase: Pick<SessionCase, 'deidentifyOutsidePatientSite' | 'patientSiteId'>,
): boolean {
  return sessionCase.deidentifyOutsidePatientSite && account.siteId !== sessionCase.patientSiteId;
}
