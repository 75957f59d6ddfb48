import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { RedisClient } from './redis.ts';

/**
 * The half-way point of a sign-in with a second factor: the password was right, the code is
 * still to come. Like a sign-in (see signin-store.ts) it is an opaque random token stored only
 * as its SHA-256, and it lasts five minutes. It is ended by the sign-in it leads to or by a lock.
 */
export const TOTP_CHALLENGE_TTL_SECONDS = 5 * 60;

const challengeKey = (token: string) => `totp:challenge:${createHash('sha256').update(token).digest('base64url')}`;

const challengeSchema = z.object({ accountId: z.uuid(), username: z.string() });
export type TotpChallenge = z.infer<typeof challengeSchema>;

export class TotpChallengeStore {
  private readonly redis: RedisClient;
  constructor(redis: RedisClient) {
    this.redis = redis;
  }

  async open(challenge: TotpChallenge): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.redis.set(challengeKey(token), JSON.stringify(challengeSchema.parse(challenge)), {
      expiration: { type: 'EX', value: TOTP_CHALLENGE_TTL_SECONDS },
    });
    return token;
  }

  /** The pending challenge behind `token`, or null when unknown, expired or damaged. */
  async get(token: string): Promise<TotpChallenge | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const stored = await this.redis.get(challengeKey(token));
    if (!stored) return null;
    try {
      return challengeSchema.parse(JSON.parse(stored));
    } catch {
      return null;
    }
  }

  async close(token: string): Promise<void> {
    if (/^[A-Za-z0-9_-]{43}$/.test(token)) await this.redis.del(challengeKey(token));
  }
}
