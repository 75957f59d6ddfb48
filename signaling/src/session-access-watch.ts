import type { Logger } from 'pino';
import type { SessionEndReason } from '@telemed/contract';
import {
  joinRefusal,
  sessionPhase,
  subscribeDomainEvents,
  type DomainEvent,
  type RedisClient,
  type Session,
} from '@telemed/domain';
import type { ConferenceDependencies, ConferenceParticipant } from './conference-participant.ts';
import { recordingStateOf } from './session-recording.ts';

/**
 * Keeps this node's calls in line with the schedule and the accounts: a cancelled or ended
 * session ends its calls (and its waiting guests' waits), a deactivated account is dropped, and
 * a participant no longer allowed in (uninvited mid-call, or removed by the host) is removed; a
 * case attached to a live session is announced to its participants, a change of its recording
 * consent shown in its rooms, and a host's mute applied to the participant held here. Domain events (Redis pub/sub) make that immediate;
 * a periodic re-check ends calls at their scheduled end and catches whatever an event missed
 * (pub/sub is fire-and-forget). Every node handles only its own connections, so each browser is
 * told exactly once.
 */

/** Why a session that is no longer live ends its calls. */
function endReasonFor(session: Session, now: Date): SessionEndReason {
  const phase = sessionPhase(session, now);
  if (phase === 'cancelled') return 'cancelled';
  if (phase === 'scheduled') return 'rescheduled';
  return 'ended';
}

/** Domain events say why a session ended in their own words; the browsers get the contract's. */
function endReasonOf(eventReason: string): SessionEndReason {
  return eventReason === 'host-deactivated' ? 'host-deactivated' : 'ended';
}

export class SessionAccessWatch {
  private readonly deps: ConferenceDependencies;
  private readonly log: Logger;
  private readonly recheckMs: number;
  private timer: NodeJS.Timeout | null = null;
  private rechecking: Promise<void> | null = null;

  constructor(deps: ConferenceDependencies, options: { recheckMs: number }) {
    this.deps = deps;
    this.log = deps.logger.child({ component: 'session-access-watch' });
    this.recheckMs = options.recheckMs;
  }

  /** Listens to domain events on `subscriber` (a connection of its own) and starts the re-checks. */
  async start(subscriber: RedisClient): Promise<void> {
    await subscribeDomainEvents(
      subscriber,
      (event) => void this.apply(event).catch((error: unknown) => this.log.error({ err: error, event }, 'failed')),
      (message) => this.log.warn({ message: message.slice(0, 200) }, 'malformed domain event ignored'),
    );
    this.timer = setInterval(() => void this.recheckAll(), this.recheckMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async apply(event: DomainEvent): Promise<void> {
    switch (event.type) {
      case 'session.ended':
        return this.endSession(event.sessionId, endReasonOf(event.reason));
      case 'session.cancelled':
        return this.endSession(event.sessionId, 'cancelled');
      case 'account.deactivated':
        return this.dropAccount(event.accountId);
      case 'session.case-attached':
        for (const connection of this.connectionsIn(event.sessionId)) connection.notifyCaseAttached(event.sessionId);
        return;
      case 'session.updated': {
        const session = await this.deps.sessions.get(event.sessionId);
        if (session) await this.deps.admission.keepFor(session);
        const recording = recordingStateOf(session);
        for (const connection of this.connectionsIn(event.sessionId)) {
          connection.notifyRecordingState(event.sessionId, recording);
        }
        return this.recheckSession(event.sessionId, session);
      }
      case 'participant.removed':
        await Promise.all(
          this.connectionsIn(event.sessionId)
            .filter((connection) => connection.accountId === event.accountId)
            .map((connection) => connection.endSession(event.sessionId, 'removed')),
        );
        return;
      case 'participant.muted':
        return this.deps.local.get(event.participantId)?.muteByHost(event.sessionId);
    }
  }

  /** Re-checks every session this node has connections in (one run at a time). */
  recheckAll(): Promise<void> {
    if (this.rechecking) return this.rechecking;
    const run = (async () => {
      for (const sessionId of this.sessionIds()) {
        await this.recheckSession(sessionId).catch((error: unknown) =>
          this.log.error({ err: error, sessionId }, 're-checking a session failed'),
        );
      }
    })();
    this.rechecking = run;
    void run
      .catch(() => undefined)
      .finally(() => {
        if (this.rechecking === run) this.rechecking = null;
      });
    return run;
  }

  /**
   * Ends the session's calls when it is no longer live, and removes the participants who may
   * no longer be in it. A session that cannot be read (gone, damaged) ends; Redis being away
   * throws, and nothing changes until it is back.
   */
  async recheckSession(sessionId: string, known?: Session | null): Promise<void> {
    const session = known === undefined ? await this.deps.sessions.get(sessionId) : known;
    const now = new Date();
    if (!session) return this.endSession(sessionId, 'ended');
    if (sessionPhase(session, now) !== 'live') return this.endSession(sessionId, endReasonFor(session, now));
    for (const connection of this.connectionsIn(sessionId)) {
      const account = await this.deps.accounts.get(connection.accountId);
      if (!account?.active) {
        await this.revoke(connection);
        continue;
      }
      const standing = await this.deps.admission.standing(sessionId, account.id);
      const refusal = joinRefusal(account, session, { ...standing, now });
      if (refusal) {
        this.log.info({ sessionId, accountId: account.id, refusal }, 'participant no longer allowed in; removed');
        await connection.endSession(sessionId, refusal === 'removed' ? 'removed' : 'access-revoked');
      }
    }
  }

  private async endSession(sessionId: string, reason: SessionEndReason): Promise<void> {
    const affected = [...this.deps.connections].filter(
      (connection) => connection.sessionId === sessionId || connection.knockedSessionIds.includes(sessionId),
    );
    if (affected.length > 0) this.log.info({ sessionId, reason, connections: affected.length }, 'ending session');
    await Promise.all(
      affected.map((connection) =>
        connection
          .endSession(sessionId, reason)
          .catch((error: unknown) => this.log.error({ err: error, sessionId }, 'ending a call failed')),
      ),
    );
  }

  private async dropAccount(accountId: string): Promise<void> {
    const affected = [...this.deps.connections].filter((connection) => connection.accountId === accountId);
    await Promise.all(affected.map((connection) => this.revoke(connection)));
  }

  private async revoke(connection: ConferenceParticipant): Promise<void> {
    this.log.info({ accountId: connection.accountId }, 'account no longer active; connection dropped');
    await connection
      .revoke()
      .catch((error: unknown) => this.log.error({ err: error, accountId: connection.accountId }, 'revoke failed'));
  }

  private connectionsIn(sessionId: string): ConferenceParticipant[] {
    return [...this.deps.connections].filter((connection) => connection.sessionId === sessionId);
  }

  private sessionIds(): Set<string> {
    const ids = new Set<string>();
    for (const connection of this.deps.connections) {
      if (connection.sessionId) ids.add(connection.sessionId);
      for (const id of connection.knockedSessionIds) ids.add(id);
    }
    return ids;
  }
}
