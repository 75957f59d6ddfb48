import { sessionPhase } from './access-policy.ts';
import { AccountStore } from './account-store.ts';
import { AuditLog } from './audit-log.ts';
import { publishDomainEvent } from './domain-events.ts';
import type { RecordWarnings } from './json-records.ts';
import type { Account } from './records.ts';
import type { RedisClient } from './redis.ts';
import { SessionStateError, SessionStore } from './session-store.ts';

/** Who deactivated the account, from where: written on the audit entries of the sessions it ends. */
export interface DeactivationActor {
  accountId: string;
  siteId: string;
  ip?: string;
}

export interface DeactivationOutcome {
  account: Account;
  /** False when the account was already inactive (its open sessions are still closed). */
  changed: boolean;
  /** Live sessions it hosted, ended now. */
  endedSessionIds: string[];
  /** Upcoming sessions it hosted, cancelled. */
  cancelledSessionIds: string[];
}

/**
 * Deactivating an account takes effect at once everywhere: the account can no longer sign in
 * (its sign-ins stop working, as every request checks `active`), signaling drops its calls, and
 * the sessions it hosts end (live) or are cancelled (upcoming) — nobody would be left to admit
 * guests or run them. Each session change is audited and announced like any other.
 */
export class AccountDeactivation {
  private readonly redis: RedisClient;
  private readonly accounts: AccountStore;
  private readonly sessions: SessionStore;
  private readonly audit: AuditLog;

  constructor(redis: RedisClient, warnings: RecordWarnings) {
    this.redis = redis;
    this.accounts = new AccountStore(redis, warnings);
    this.sessions = new SessionStore(redis, warnings);
    this.audit = new AuditLog(redis);
  }

  /** Null for an unknown account. Safe to repeat: an inactive account's open sessions are closed again. */
  async deactivate(
    accountId: string,
    actor: DeactivationActor,
    now: Date = new Date(),
  ): Promise<DeactivationOutcome | null> {
    const result = await this.accounts.setActive(accountId, false);
    if (!result) return null;
    await publishDomainEvent(this.redis, { type: 'account.deactivated', accountId });

    const endedSessionIds: string[] = [];
    const cancelledSessionIds: string[] = [];
    for (const session of await this.sessions.listOpenHostedBy(accountId, now)) {
      const live = sessionPhase(session, now) === 'live';
      try {
        const closed = live ? await this.sessions.end(session.id) : await this.sessions.cancel(session.id);
        if (!closed) continue;
      } catch (error) {
        // Ended or cancelled by someone else meanwhile: nothing left to do for it.
        if (error instanceof SessionStateError) continue;
        throw error;
      }
      if (live) {
        endedSessionIds.push(session.id);
        await publishDomainEvent(this.redis, {
          type: 'session.ended',
          sessionId: session.id,
          reason: 'host-deactivated',
        });
      } else {
        cancelledSessionIds.push(session.id);
        await publishDomainEvent(this.redis, { type: 'session.cancelled', sessionId: session.id });
      }
      await this.audit.record({
        action: live ? 'session.ended' : 'session.cancelled',
        actorAccountId: actor.accountId,
        siteId: actor.siteId,
        ...(actor.ip ? { ip: actor.ip } : {}),
        sessionId: session.id,
        target: `session:${session.id}`,
        detail: { reason: 'host-deactivated', hostAccountId: accountId },
      });
    }
    return { account: result.account, changed: result.changed, endedSessionIds, cancelledSessionIds };
  }
}
