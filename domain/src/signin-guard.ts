import type { RedisClient } from './redis.ts';

/**
 * Brute-force protection for sign-in, counted in Redis so every web process shares the counts:
 *
 * - per username: after `maxFailures` failed passwords or codes within `failureWindowSeconds`
 *   the username is locked for `lockSeconds`; a successful sign-in clears the count. Counted
 *   for any username, existing or not, so a lock reveals nothing about which usernames exist.
 * - per source address: at most `addressMaxAttempts` attempts per `addressWindowSeconds`. Each
 *   attempt is counted before the password is checked (so a burst of parallel requests cannot
 *   slip past), and given back when it succeeds, so staff sharing one hospital NAT address are
 *   not shut out by their own colleagues signing in at the start of a conference.
 *
 * Fixed windows (INCR with an expiry set on the first count) rather than sliding ones: simple,
 * atomic, and exact enough for slowing down guessing.
 */
export interface SigninGuardSettings {
  maxFailures: number;
  failureWindowSeconds: number;
  lockSeconds: number;
  addressMaxAttempts: number;
  addressWindowSeconds: number;
}

export const defaultSigninGuardSettings: SigninGuardSettings = {
  maxFailures: 5,
  failureWindowSeconds: 15 * 60,
  lockSeconds: 15 * 60,
  addressMaxAttempts: 30,
  addressWindowSeconds: 5 * 60,
};

export type AddressAdmission = { admitted: true } | { admitted: false; retryAfterSeconds: number };

/** How usernames are compared: as stored (trimmed, lower case), NFKC so full-width input counts too. */
export function normaliseUsername(username: string): string {
  return username.normalize('NFKC').trim().toLowerCase().slice(0, 64);
}

const failuresKey = (username: string) => `signin-guard:failures:${normaliseUsername(username)}`;
const lockKey = (username: string) => `signin-guard:lock:${normaliseUsername(username)}`;
const addressKey = (address: string) => `signin-guard:address:${address.slice(0, 64)}`;

/**
 * Counts one more, starting the window on the first count; returns the count and the window's
 * remaining milliseconds.
 */
const COUNT_IN_WINDOW = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}`;

/** Gives back one attempt, never below zero and without touching the window. */
const GIVE_BACK = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then redis.call('DECR', KEYS[1]) end
return 0`;

export class SigninGuard {
  private readonly redis: RedisClient;
  private readonly settings: SigninGuardSettings;
  constructor(redis: RedisClient, settings: Partial<SigninGuardSettings> = {}) {
    this.redis = redis;
    this.settings = { ...defaultSigninGuardSettings, ...settings };
  }

  private async countInWindow(key: string, windowSeconds: number): Promise<{ count: number; remainingMs: number }> {
    const [count, remainingMs] = (await this.redis.eval(COUNT_IN_WINDOW, {
      keys: [key],
      arguments: [String(windowSeconds * 1000)],
    })) as [number, number];
    return { count, remainingMs: remainingMs > 0 ? remainingMs : windowSeconds * 1000 };
  }

  /** Counts an attempt from `address`, refusing it when the address has used up its attempts. */
  async admitAttempt(address: string): Promise<AddressAdmission> {
    const { count, remainingMs } = await this.countInWindow(addressKey(address), this.settings.addressWindowSeconds);
    if (count <= this.settings.addressMaxAttempts) return { admitted: true };
    return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(remainingMs / 1000)) };
  }

  /** When the username's lock ends, or null when it is not locked. */
  async lockedUntil(username: string): Promise<Date | null> {
    const remainingMs = await this.redis.pTTL(lockKey(username));
    return remainingMs > 0 ? new Date(Date.now() + remainingMs) : null;
  }

  /** Counts a wrong password or code; returns when the username is now locked until, or null. */
  async recordFailure(username: string): Promise<Date | null> {
    const { count } = await this.countInWindow(failuresKey(username), this.settings.failureWindowSeconds);
    if (count < this.settings.maxFailures) return null;
    const until = new Date(Date.now() + this.settings.lockSeconds * 1000);
    await this.redis
      .multi()
      .set(lockKey(username), until.toISOString(), { expiration: { type: 'EX', value: this.settings.lockSeconds } })
      .del(failuresKey(username))
      .exec();
    return until;
  }

  /**
   * The attempt from `address` succeeded (a right password, even if a code must follow): it is
   * given back.
   */
  async giveBackAttempt(address: string): Promise<void> {
    await this.redis.eval(GIVE_BACK, { keys: [addressKey(address)] });
  }

  /**
   * Fully signed in: the username's failures are forgotten. Not on a right password alone, or
   * someone who knows the password could keep resetting the count while guessing the code.
   */
  async recordSuccess(username: string, address: string): Promise<void> {
    await this.redis.del(failuresKey(username));
    await this.giveBackAttempt(address);
  }

  /** Lifts a lock at once (an admin vouching for the account's owner). */
  async unlock(username: string): Promise<void> {
    await this.redis.del([lockKey(username), failuresKey(username)]);
  }
}
