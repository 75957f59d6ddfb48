import { randomUUID } from 'node:crypto';
import { RedisStore } from './redis-store.ts';
import { readRecord, readRecords } from './json-records.ts';
import { isInvited, sessionPhase } from './access-policy.ts';
import { InputError, issue, parseInput, type FieldIssue } from './field-issues.ts';
import { sessionCaseSchema, sessionSchema, type Account, type Session, type SessionCase } from './records.ts';
import {
  MAX_SESSION_HOURS,
  caseDraftSchema,
  sessionDraftSchema,
  sessionPatchSchema,
  toUtcInstant,
  type CaseDraft,
  type SessionDraft,
  type SessionPatch,
} from './session-input.ts';

export const sessionKey = (id: string) => `session:${id}`;
/** Sorted set of session ids by start time (ms since the epoch). */
export const SESSIONS_BY_START = 'sessions:by-start';
const MAX_SESSION_MS = MAX_SESSION_HOURS * 3600_000;

/** Another session at the same time that involves one of the same sites or accounts. */
export interface BookingConflict {
  sessionId: string;
  title: string;
  startsAt: string;
  endsAt: string;
  siteIds: string[];
  accountIds: string[];
}

/** The session would double-book a site or an account; nothing was stored. */
export class DoubleBookingError extends Error {
  readonly conflicts: BookingConflict[];
  constructor(conflicts: BookingConflict[]) {
    super(`double booking with ${conflicts.map((conflict) => conflict.sessionId).join(', ')}`);
    this.name = 'DoubleBookingError';
    this.conflicts = conflicts;
  }
}

/** The change does not fit the session's state (cancelled, ended, or changed meanwhile). */
export class SessionStateError extends Error {
  readonly reason: 'cancelled' | 'ended' | 'stale';
  constructor(reason: 'cancelled' | 'ended' | 'stale') {
    super(
      reason === 'stale'
        ? 'the session was changed by someone else meanwhile; reload it'
        : `the session is ${reason} and can no longer be changed`,
    );
    this.name = 'SessionStateError';
    this.reason = reason;
  }
}

/** Whether two sessions' times overlap (touching ends do not). */
function overlaps(a: Pick<Session, 'startsAt' | 'endsAt'>, b: Pick<Session, 'startsAt' | 'endsAt'>): boolean {
  return Date.parse(a.startsAt) < Date.parse(b.endsAt) && Date.parse(b.startsAt) < Date.parse(a.endsAt);
}

const bookedAccounts = (session: Pick<Session, 'hostAccountId' | 'invitedAccountIds'>) =>
  new Set([session.hostAccountId, ...session.invitedAccountIds]);

/**
 * Replaces a session record only if its stored `sequence` is still the one the change was based
 * on (Lua runs atomically in Redis, so two editors cannot overwrite each other's changes).
 */
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if cjson.decode(current)['sequence'] ~= tonumber(ARGV[2]) then return -1 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return 1`;

export class SessionStore extends RedisStore {
  async get(id: string): Promise<Session | null> {
    return readRecord(this.redis, sessionKey(id), sessionSchema, this.warnings);
  }

  /**
   * Schedules a session hosted by `hostAccountId` (default: the actor). Throws InputError for bad
   * or unknown fields and DoubleBookingError unless `allowDoubleBooking`; either way nothing is
   * stored. Returns the session and the double bookings it was allowed to make.
   */
  async create(
    input: SessionDraft & { id?: string },
    actor: Pick<Account, 'id'>,
  ): Promise<{ session: Session; conflicts: BookingConflict[] }> {
    const draft = parseInput(sessionDraftSchema, input);
    const now = new Date().toISOString();
    const candidate: Session = {
      id: input.id ?? randomUUID(),
      title: draft.title,
      description: draft.description,
      startsAt: toUtcInstant(draft.startsAt, draft.timeZone),
      endsAt: toUtcInstant(draft.endsAt, draft.timeZone),
      hostAccountId: draft.hostAccountId ?? actor.id,
      invitedSiteIds: [...new Set(draft.invitedSiteIds)],
      invitedAccountIds: [...new Set(draft.invitedAccountIds)],
      status: 'scheduled',
      cases: [],
      recordingAllowed: draft.recordingAllowed,
      sequence: 0,
      createdAt: now,
      updatedAt: now,
    };
    await this.checkReferences(candidate);
    const conflicts = await this.conflictsFor(candidate);
    if (conflicts.length > 0 && !draft.allowDoubleBooking) throw new DoubleBookingError(conflicts);
    const session = sessionSchema.parse(candidate);
    const stored = await this.redis.set(sessionKey(session.id), JSON.stringify(session), { condition: 'NX' });
    if (stored === null) throw new InputError([issue('id', 'taken', 'a session with this id exists')]);
    await this.redis.zAdd(SESSIONS_BY_START, { score: Date.parse(session.startsAt), value: session.id });
    return { session, conflicts };
  }

  /** Edits or reschedules; the same checks as `create`. Returns null for an unknown session. */
  async update(id: string, input: SessionPatch): Promise<{ session: Session; conflicts: BookingConflict[] } | null> {
    const patch = parseInput(sessionPatchSchema, input);
    return this.change(
      id,
      async (current) => {
        if (patch.expectedSequence !== undefined && patch.expectedSequence !== current.sequence) {
          throw new SessionStateError('stale');
        }
        const next: Session = {
          ...current,
          ...(patch.title !== undefined ? { title: patch.title } : {}),
          ...(patch.description !== undefined ? { description: patch.description } : {}),
          ...(patch.startsAt !== undefined ? { startsAt: toUtcInstant(patch.startsAt, patch.timeZone) } : {}),
          ...(patch.endsAt !== undefined ? { endsAt: toUtcInstant(patch.endsAt, patch.timeZone) } : {}),
          ...(patch.hostAccountId !== undefined ? { hostAccountId: patch.hostAccountId } : {}),
          ...(patch.invitedSiteIds !== undefined ? { invitedSiteIds: [...new Set(patch.invitedSiteIds)] } : {}),
          ...(patch.invitedAccountIds !== undefined
            ? { invitedAccountIds: [...new Set(patch.invitedAccountIds)] }
            : {}),
          ...(patch.recordingAllowed !== undefined ? { recordingAllowed: patch.recordingAllowed } : {}),
        };
        await this.checkReferences(next);
        const conflicts = await this.conflictsFor(next);
        if (conflicts.length > 0 && !patch.allowDoubleBooking) throw new DoubleBookingError(conflicts);
        return { next, result: conflicts };
      },
      { requireOpen: true },
    ).then((changed) => changed && { session: changed.session, conflicts: changed.result ?? [] });
  }

  /** Cancels a session that has not ended; returns null for an unknown session. */
  async cancel(id: string): Promise<Session | null> {
    const changed = await this.change(id, async (current) => ({ next: { ...current, status: 'cancelled' as const } }), {
      requireOpen: true,
    });
    return changed?.session ?? null;
  }

  /** Ends a session now (e.g. its host was deactivated); a session already over stays as it is. */
  async end(id: string): Promise<Session | null> {
    const changed = await this.change(id, async (current) => ({ next: { ...current, status: 'ended' as const } }), {
      requireOpen: true,
    });
    return changed?.session ?? null;
  }

  /** Attaches a case (with its consent reference) to a session that is not over. */
  async attachCase(
    id: string,
    input: CaseDraft,
    actor: Pick<Account, 'id'>,
  ): Promise<{ session: Session; sessionCase: SessionCase } | null> {
    const draft = parseInput(caseDraftSchema, input);
    const sessionCase = sessionCaseSchema.parse({
      id: randomUUID(),
      patientRef: draft.patientRef,
      summary: draft.summary,
      studyInstanceUids: [...new Set(draft.studyInstanceUids)],
      consent: {
        documentNumber: draft.consent.documentNumber,
        recordedBy: draft.consent.recordedBy,
        recordedAt: toUtcInstant(draft.consent.recordedAt, draft.timeZone),
      },
      patientSiteId: draft.patientSiteId,
      deidentifyOutsidePatientSite: draft.deidentifyOutsidePatientSite,
      attachedByAccountId: actor.id,
      attachedAt: new Date().toISOString(),
    });
    if (sessionCase.patientSiteId && (await this.redis.exists(`site:${sessionCase.patientSiteId}`)) === 0) {
      throw new InputError([issue('patientSiteId', 'unknown_site', `no site ${sessionCase.patientSiteId}`)]);
    }
    const changed = await this.change(
      id,
      async (current) => {
        if (current.cases.length >= 30) throw new InputError([issue('cases', 'too_many', 'at most 30 cases', 30)]);
        return { next: { ...current, cases: [...current.cases, sessionCase] } };
      },
      { requireOpen: true },
    );
    return changed && { session: changed.session, sessionCase };
  }

  /** Sessions starting in [from, to), earliest first. */
  async listStarting(from: Date, to: Date): Promise<Session[]> {
    const ids = await this.redis.zRangeByScore(SESSIONS_BY_START, from.getTime(), to.getTime() - 1);
    return readRecords(this.redis, ids.map(sessionKey), sessionSchema, this.warnings);
  }

  /** Sessions overlapping [from, to), earliest first. */
  async listOverlapping(from: Date, to: Date): Promise<Session[]> {
    const sessions = await this.listStarting(new Date(from.getTime() - MAX_SESSION_MS), to);
    return sessions.filter((session) => overlaps(session, { startsAt: from.toISOString(), endsAt: to.toISOString() }));
  }

  /** Every session the account hosts or is invited to (itself or through its site), earliest first. */
  async listFor(account: Pick<Account, 'id' | 'siteId'>): Promise<Session[]> {
    const ids = await this.redis.zRange(SESSIONS_BY_START, 0, -1);
    const sessions = await readRecords(this.redis, ids.map(sessionKey), sessionSchema, this.warnings);
    return sessions.filter((session) => isInvited(account, session));
  }

  /** Sessions hosted by the account that are not over yet. */
  async listOpenHostedBy(accountId: string, now = new Date()): Promise<Session[]> {
    const sessions = await this.listStarting(new Date(now.getTime() - MAX_SESSION_MS), new Date(8.64e15));
    return sessions.filter(
      (session) => session.hostAccountId === accountId && ['scheduled', 'live'].includes(sessionPhase(session, now)),
    );
  }

  /** Other open sessions at the same time that book one of the same sites or accounts. */
  async conflictsFor(candidate: Session): Promise<BookingConflict[]> {
    const others = await this.listOverlapping(new Date(candidate.startsAt), new Date(candidate.endsAt));
    const sites = new Set(candidate.invitedSiteIds);
    const accounts = bookedAccounts(candidate);
    const conflicts: BookingConflict[] = [];
    for (const other of others) {
      if (other.id === candidate.id || other.status === 'cancelled' || other.status === 'ended') continue;
      const siteIds = other.invitedSiteIds.filter((site) => sites.has(site));
      const accountIds = [...bookedAccounts(other)].filter((account) => accounts.has(account));
      if (siteIds.length > 0 || accountIds.length > 0) {
        conflicts.push({
          sessionId: other.id,
          title: other.title,
          startsAt: other.startsAt,
          endsAt: other.endsAt,
          siteIds,
          accountIds,
        });
      }
    }
    return conflicts;
  }

  /** Times in order and not too long; host, sites and accounts exist (host active). */
  private async checkReferences(session: Session): Promise<void> {
    const issues: FieldIssue[] = [];
    const start = Date.parse(session.startsAt);
    const end = Date.parse(session.endsAt);
    if (end <= start) issues.push(issue('endsAt', 'end_before_start', 'the end must be after the start'));
    else if (end - start > MAX_SESSION_MS) {
      issues.push(issue('endsAt', 'too_long_duration', `at most ${MAX_SESSION_HOURS} hours`, MAX_SESSION_HOURS));
    }
    const siteIds = session.invitedSiteIds;
    const accountIds = [session.hostAccountId, ...session.invitedAccountIds];
    const [siteExists, accountRecords] = await Promise.all([
      siteIds.length ? this.redis.mGet(siteIds.map((id) => `site:${id}`)) : [],
      this.redis.mGet(accountIds.map((id) => `account:${id}`)),
    ]);
    siteIds.forEach((id, index) => {
      if (siteExists[index] == null) issues.push(issue(`invitedSiteIds.${index}`, 'unknown_site', `no site ${id}`));
    });
    accountIds.forEach((id, index) => {
      const stored = accountRecords[index];
      const active = stored != null && (JSON.parse(stored) as { active?: boolean }).active === true;
      if (active) return;
      const field = index === 0 ? 'hostAccountId' : `invitedAccountIds.${index - 1}`;
      issues.push(issue(field, 'unknown_account', `no active account ${id}`));
    });
    if (issues.length > 0) throw new InputError(issues);
  }

  /**
   * Read-modify-write of one session with an optimistic check: when another change lands in
   * between, the change is computed again from the new record (a few times at most).
   */
  private async change<R>(
    id: string,
    compute: (current: Session) => Promise<{ next: Session; result?: R }>,
    options: { requireOpen: boolean },
  ): Promise<{ session: Session; result: R | undefined } | null> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const current = await this.get(id);
      if (!current) return null;
      if (options.requireOpen) {
        const phase = sessionPhase(current);
        if (phase === 'cancelled' || phase === 'ended') throw new SessionStateError(phase);
      }
      const { next, result } = await compute(current);
      const session = sessionSchema.parse({
        ...next,
        sequence: current.sequence + 1,
        updatedAt: new Date().toISOString(),
      });
      const outcome = await this.redis.eval(COMPARE_AND_SET, {
        keys: [sessionKey(id), SESSIONS_BY_START],
        arguments: [JSON.stringify(session), String(current.sequence), String(Date.parse(session.startsAt)), id],
      });
      if (outcome === 1) return { session, result };
      if (outcome === 0) return null;
    }
    throw new SessionStateError('stale');
  }
}
