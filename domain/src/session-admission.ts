import { z } from 'zod';
import type { JoinStanding } from './access-policy.ts';
import { RedisStore } from './redis-store.ts';
import { displayNameSchema, siteIdSchema, type Session } from './records.ts';

/**
 * The host's waiting room of one session: accounts that are not invited ask to be let in
 * (`knock`) and wait until the host admits or rejects them. Admitted guests may join the
 * session like invited accounts for the rest of its life. An account the host removes from
 * the call stays out for the rest of the session (invited or not) until the host admits it
 * again from the waiting room.
 *
 * Keys: `session:<id>:waiting` (hash accountId → waiting guest as JSON),
 * `session:<id>:admitted` and `session:<id>:removed` (sets of accountIds). All expire some hours
 * after the session's end, so nothing piles up; `keepFor` moves the expiry when a session is
 * rescheduled.
 */

/** How long the waiting list and the admitted guests are kept after the session's scheduled end. */
export const ADMISSION_KEPT_AFTER_END_MS = 6 * 3600_000;

export const waitingGuestSchema = z.object({
  accountId: z.uuid(),
  displayName: displayNameSchema,
  siteId: siteIdSchema,
  siteNameJa: z.string().min(1).max(100),
  siteNameEn: z.string().min(1).max(100),
  /** When the guest first knocked (UTC, ISO 8601). */
  requestedAt: z.iso.datetime(),
});
export type WaitingGuest = z.infer<typeof waitingGuestSchema>;

export const waitingKey = (sessionId: string) => `session:${sessionId}:waiting`;
export const admittedKey = (sessionId: string) => `session:${sessionId}:admitted`;
export const removedKey = (sessionId: string) => `session:${sessionId}:removed`;

const expiresAt = (session: Pick<Session, 'endsAt'>) => Date.parse(session.endsAt) + ADMISSION_KEPT_AFTER_END_MS;

/** Joins the waiting list unless already admitted (a second knock keeps the first request time). */
const KNOCK = `
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 'admitted' end
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 'waiting'`;

/**
 * Moves a waiting guest to the admitted set (lifting a removal), atomically; nil when the guest
 * is not waiting.
 */
const ADMIT = `
local guest = redis.call('HGET', KEYS[1], ARGV[1])
if not guest then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIREAT', KEYS[2], ARGV[2])
redis.call('SREM', KEYS[3], ARGV[1])
return guest`;

/** Marks an account removed and takes back its admission, atomically. */
const REMOVE = `
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIREAT', KEYS[2], ARGV[2])
return 1`;

/** Takes a guest off the waiting list, atomically; nil when the guest is not waiting. */
const TAKE_OFF = `
local guest = redis.call('HGET', KEYS[1], ARGV[1])
if not guest then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
return guest`;

export class SessionAdmission extends RedisStore {
  /** Asks to be let in: `admitted` when the host already admitted the account, else `waiting`. */
  async knock(
    session: Pick<Session, 'id' | 'endsAt'>,
    guest: Omit<WaitingGuest, 'requestedAt'>,
    now: Date = new Date(),
  ): Promise<'admitted' | 'waiting'> {
    const entry = waitingGuestSchema.parse({ ...guest, requestedAt: now.toISOString() });
    const status = await this.redis.eval(KNOCK, {
      keys: [waitingKey(session.id), admittedKey(session.id)],
      arguments: [entry.accountId, JSON.stringify(entry), String(expiresAt(session))],
    });
    return status === 'admitted' ? 'admitted' : 'waiting';
  }

  /** The guest gives up waiting; returns what was stored, or null when the guest was not waiting. */
  async withdraw(sessionId: string, accountId: string): Promise<WaitingGuest | null> {
    return this.takeOff(sessionId, accountId);
  }

  /** Everyone waiting, first come first. */
  async waiting(sessionId: string): Promise<WaitingGuest[]> {
    const key = waitingKey(sessionId);
    const stored = await this.redis.hGetAll(key);
    const guests = Object.entries(stored).flatMap(([field, value]) => {
      const guest = this.parse(value, key, field);
      return guest ? [guest] : [];
    });
    return guests.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
  }

  /** Lets a waiting guest in; returns the guest, or null when nobody by that id is waiting. */
  async admit(session: Pick<Session, 'id' | 'endsAt'>, accountId: string): Promise<WaitingGuest | null> {
    const stored = await this.redis.eval(ADMIT, {
      keys: [waitingKey(session.id), admittedKey(session.id), removedKey(session.id)],
      arguments: [accountId, String(expiresAt(session))],
    });
    return typeof stored === 'string' ? this.parseTaken(stored, waitingKey(session.id), accountId) : null;
  }

  /** Turns a waiting guest away; returns the guest, or null when nobody by that id is waiting. */
  async reject(sessionId: string, accountId: string): Promise<WaitingGuest | null> {
    return this.takeOff(sessionId, accountId);
  }

  async isAdmitted(sessionId: string, accountId: string): Promise<boolean> {
    return (await this.redis.sIsMember(admittedKey(sessionId), accountId)) === 1;
  }

  /** Whether the host admitted the account, and whether it removed it since (see `joinRefusal`). */
  async standing(sessionId: string, accountId: string): Promise<JoinStanding> {
    const [admitted, removed] = await this.redis
      .multi()
      .sIsMember(admittedKey(sessionId), accountId)
      .sIsMember(removedKey(sessionId), accountId)
      .exec();
    return { admitted: Number(admitted) === 1, removed: Number(removed) === 1 };
  }

  /**
   * The host removed the account from the call: it may not join again (nor is it let in at once
   * when it knocks) until the host admits it from the waiting room.
   */
  async remove(session: Pick<Session, 'id' | 'endsAt'>, accountId: string): Promise<void> {
    await this.redis.eval(REMOVE, {
      keys: [admittedKey(session.id), removedKey(session.id)],
      arguments: [accountId, String(expiresAt(session))],
    });
  }

  /** Moves the expiry after a session was rescheduled, so admitted guests stay admitted (and removed ones out). */
  async keepFor(session: Pick<Session, 'id' | 'endsAt'>): Promise<void> {
    const at = expiresAt(session);
    await this.redis
      .multi()
      .pExpireAt(waitingKey(session.id), at)
      .pExpireAt(admittedKey(session.id), at)
      .pExpireAt(removedKey(session.id), at)
      .exec();
  }

  private async takeOff(sessionId: string, accountId: string): Promise<WaitingGuest | null> {
    const stored = await this.redis.eval(TAKE_OFF, { keys: [waitingKey(sessionId)], arguments: [accountId] });
    return typeof stored === 'string' ? this.parseTaken(stored, waitingKey(sessionId), accountId) : null;
  }

  /**
   * A guest already taken off the list whose stored entry no longer parses is still reported
   * by id (the decision happened), with placeholders for what could not be read.
   */
  private parseTaken(value: string, key: string, accountId: string): WaitingGuest {
    return (
      this.parse(value, key, accountId) ?? {
        accountId,
        displayName: accountId,
        siteId: 'unknown',
        siteNameJa: '不明',
        siteNameEn: 'unknown',
        requestedAt: new Date(0).toISOString(),
      }
    );
  }

  private parse(value: string, key: string, field: string): WaitingGuest | null {
    try {
      return waitingGuestSchema.parse(JSON.parse(value));
    } catch (error) {
      this.warnings.warn({ key, field, err: error }, 'waiting guest does not parse; skipped');
      return null;
    }
  }
}
