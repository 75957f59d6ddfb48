import { createHash, randomBytes } from 'node:crypto';
import type { RedisClient } from './redis.ts';

/**
 * Browser sign-ins: an opaque random token in an httpOnly cookie, stored in Redis only as its
 * SHA-256 (a leaked Redis dump holds no usable cookie), expiring after `ttlSeconds`.
 */
const signinKey = (token: string) => `signin:${createHash('sha256').update(token).digest('base64url')}`;

export class SigninStore {
  private readonly redis: RedisClient;
  private readonly ttlSeconds: number;
  constructor(redis: RedisClient, ttlSeconds: number) {
    this.redis = redis;
    this.ttlSeconds = ttlSeconds;
  }

  async open(accountId: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.redis.set(signinKey(token), accountId, { expiration: { type: 'EX', value: this.ttlSeconds } });
    return token;
  }

  /** The account id signed in with this token, or null when unknown or expired. */
  async accountId(token: string): Promise<string | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    return this.redis.get(signinKey(token));
  }

  async close(token: string): Promise<void> {
    await this.redis.del(signinKey(token));
  }
}
