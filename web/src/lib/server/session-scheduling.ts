import {
  mayAttachCase,
  mayManageSession,
  mayScheduleSessions,
  maySeeAllSessions,
  mayViewSession,
  publishDomainEvent,
  sessionPhase,
  StudyPrefetchQueue,
  type Account,
  type BookingConflict,
  type CaseDraft,
  type Session,
  type SessionCase,
  type SessionDraft,
  type SessionPatch,
} from '@telemed/domain';
import { auditAs, type Actor } from './actor.ts';
import { ApiFailure } from './api/api-response.ts';
import { logger, webDomain } from './domain.ts';

/**
 * What coordinators do to the schedule — create, edit, cancel, attach cases — with the access
 * check, the store, the audit record and the event for signaling in one place, so the forms and
 * the REST API cannot differ. Refusals throw ApiFailure (403/404) and are audited as denied.
 */

const target = (sessionId: string) => `session:${sessionId}`;

function audit(
  actor: Actor,
  action: string,
  sessionId: string | undefined,
  outcome: 'success' | 'denied',
  detail?: Record<string, unknown>,
) {
  return auditAs(actor, {
    action,
    outcome,
    ...(sessionId ? { sessionId, target: target(sessionId) } : {}),
    ...(detail ? { detail } : {}),
  });
}

/** The host's current site, for the "same site as the host" rule. */
export async function hostSiteOf(session: Session): Promise<string | null> {
  const { accounts } = await webDomain();
  return (await accounts.get(session.hostAccountId))?.siteId ?? null;
}

/**
 * The session if the actor may see it. Unknown and not-allowed get the same 403 unless the actor
 * sees the whole calendar anyway (then an unknown id is a plain 404).
 */
export async function viewableSession(actor: Actor, sessionId: string, action = 'session.viewed'): Promise<Session> {
  const { sessions } = await webDomain();
  const session = await sessions.get(sessionId);
  if (!session) {
    if (maySeeAllSessions(actor.account)) throw new ApiFailure('not_found', 'no such session');
    await audit(actor, action, sessionId, 'denied');
    throw new ApiFailure('forbidden', 'not allowed for this account');
  }
  if (!mayViewSession(actor.account, session, await hostSiteOf(session))) {
    await audit(actor, action, sessionId, 'denied');
    throw new ApiFailure('forbidden', 'not allowed for this account');
  }
  return session;
}

/** An access rule about one session (see access-policy.ts), given the host's current site. */
type SessionRule = (account: Account, session: Session, hostSiteId: string | null) => boolean;

/**
 * The session if the actor may see it and `rule` allows `action` on it; otherwise the refusal is
 * audited under `action` and answered 403 with `refusal`.
 */
export async function sessionAllowing(
  actor: Actor,
  sessionId: string,
  action: string,
  rule: SessionRule,
  refusal: string,
): Promise<Session> {
  const session = await viewableSession(actor, sessionId, action);
  if (!rule(actor.account, session, await hostSiteOf(session))) {
    await audit(actor, action, sessionId, 'denied');
    throw new ApiFailure('forbidden', refusal);
  }
  return session;
}

function manageableSession(actor: Actor, sessionId: string, action: string): Promise<Session> {
  return sessionAllowing(
    actor,
    sessionId,
    action,
    mayManageSession,
    'only the host, coordinators of the host’s site and admins may change it',
  );
}

export async function scheduleSession(
  actor: Actor,
  draft: SessionDraft,
): Promise<{ session: Session; conflicts: BookingConflict[] }> {
  if (!mayScheduleSessions(actor.account)) {
    await audit(actor, 'session.created', undefined, 'denied');
    throw new ApiFailure('forbidden', 'only coordinators and admins schedule sessions');
  }
  const { sessions } = await webDomain();
  const result = await sessions.create(draft, actor.account);
  await audit(actor, 'session.created', result.session.id, 'success', {
    title: result.session.title,
    startsAt: result.session.startsAt,
    endsAt: result.session.endsAt,
    invitedSiteIds: result.session.invitedSiteIds,
    invitedAccountIds: result.session.invitedAccountIds,
    recordingAllowed: result.session.recordingAllowed,
    doubleBookings: result.conflicts.map((conflict) => conflict.sessionId),
  });
  return result;
}

export async function editSession(
  actor: Actor,
  sessionId: string,
  patch: SessionPatch,
): Promise<{ session: Session; conflicts: BookingConflict[] }> {
  const before = await manageableSession(actor, sessionId, 'session.updated');
  const { sessions, redis } = await webDomain();
  const result = await sessions.update(sessionId, patch);
  if (!result) throw new ApiFailure('not_found', 'no such session');
  const fields = [
    'title',
    'description',
    'startsAt',
    'endsAt',
    'hostAccountId',
    'invitedSiteIds',
    'invitedAccountIds',
    'recordingAllowed',
  ];
  const changed = fields.filter(
    (field) =>
      JSON.stringify(before[field as keyof Session]) !== JSON.stringify(result.session[field as keyof Session]),
  );
  await audit(actor, 'session.updated', sessionId, 'success', {
    changed,
    startsAt: result.session.startsAt,
    endsAt: result.session.endsAt,
    recordingAllowed: result.session.recordingAllowed,
    sequence: result.session.sequence,
    doubleBookings: result.conflicts.map((conflict) => conflict.sessionId),
  });
  await publishDomainEvent(redis, { type: 'session.updated', sessionId });
  return result;
}

export async function cancelSession(actor: Actor, sessionId: string, reason = ''): Promise<Session> {
  await manageableSession(actor, sessionId, 'session.cancelled');
  const { sessions, redis } = await webDomain();
  const session = await sessions.cancel(sessionId);
  if (!session) throw new ApiFailure('not_found', 'no such session');
  await audit(actor, 'session.cancelled', sessionId, 'success', { sequence: session.sequence, reason });
  await publishDomainEvent(redis, { type: 'session.cancelled', sessionId });
  return session;
}

export async function attachCase(
  actor: Actor,
  sessionId: string,
  draft: CaseDraft,
): Promise<{ session: Session; sessionCase: SessionCase }> {
  const action = 'session.case-attached';
  await sessionAllowing(
    actor,
    sessionId,
    action,
    mayAttachCase,
    'only those who manage the session, or share into it while it is live, may',
  );
  const { sessions, redis } = await webDomain();
  const result = await sessions.attachCase(sessionId, draft, actor.account);
  if (!result) throw new ApiFailure('not_found', 'no such session');
  const { sessionCase } = result;
  await audit(actor, action, sessionId, 'success', {
    caseId: sessionCase.id,
    patientRef: sessionCase.patientRef,
    studyInstanceUids: sessionCase.studyInstanceUids,
    consent: sessionCase.consent,
    // Shared from the room's study browser during the call, or attached ahead of it.
    duringSession: sessionPhase(result.session) === 'live',
  });
  await queueStudyPrefetch(sessionId, sessionCase.studyInstanceUids);
  await publishDomainEvent(redis, { type: 'session.case-attached', sessionId });
  return result;
}

/**
 * Asks the dicom-proxy to fetch the case's studies into its cache before the session. Only a
 * convenience: the case stays attached when Redis refuses, the viewer then reads from the PACS.
 */
async function queueStudyPrefetch(sessionId: string, studyInstanceUids: readonly string[]): Promise<void> {
  try {
    const { redis } = await webDomain();
    await new StudyPrefetchQueue(redis, logger).enqueue(sessionId, studyInstanceUids);
  } catch (error) {
    logger.warn({ err: error, sessionId }, 'study prefetch could not be queued');
  }
}
