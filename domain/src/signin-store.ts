import { createHash, randomBytes } from 'node:crypto';
import type { RedisClient } from './redis.ts';

/**
 * Browser sign-ins: an opaque random token in an httpOnly cookie, stored in Redis only as its
 * SHA-256 (a leaked Redis dump holds no usable cookie), expiring after `ttlSeconds`.
 */
const tokenHash = (token: string) => createHash('sha256').update(token).digest('base64url');
const signinKey = (hash: string) => `signin:${hash}`;
/** The hashes of an account's sign-ins, so they can all be ended at once (password reset). */
const accountSigninsKey = (accountId: string) => `signin:account:${accountId}`;

export class SigninStore {
  private readonly redis: RedisClient;
  private readonly ttlSeconds: number;
  constructor(redis: RedisClient, ttlSeconds: number) {
    this.redis = redis;
    this.ttlSeconds = ttlSeconds;
  }

  async open(accountId: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const hash = tokenHash(token);
    await this.redis
      .multi()
      .set(signinKey(hash), accountId, { expiration: { type: 'EX', value: this.ttlSeconds } })
      .sAdd(accountSigninsKey(accountId), hash)
      .expire(accountSigninsKey(accountId), this.ttlSeconds)
      .exec();
    return token;
  }

  /** The account id signed in with this token, or null when unknown or expired. */
  async accountId(token: string): Promise<string | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    return this.redis.get(signinKey(tokenHash(token)));
  }

  async close(token: string): Promise<void> {
    await this.redis.del(signinKey(tokenHash(token)));
  }

  /**
   * Ends every sign-in of the account (browsers and API tokens) except `keep`: after a password
   * change or reset, whoever knew the old password is out.
   */
  async closeAllOf(accountId: string, keep?: string): Promise<number> {
    const hashes = await this.redis.sMembers(accountSigninsKey(accountId));
    const kept = keep ? tokenHash(keep) : null;
    const ended = hashes.filter((hash) => hash !== kept);
    if (ended.length === 0) return 0;
    await this.redis.multi().del(ended.map(signinKey)).sRem(accountSigninsKey(accountId), ended).exec();
    return ended.length;
  }
}
