import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { RedisClient } from './redis.ts';

/**
 * Each account's secret calendar feed address: calendar apps fetch it without cookies, so a
 * random token in the URL is the credential. Redis keeps only the token's SHA-256 (a leaked dump
 * holds no usable address), and one current token per account: issuing a new one revokes the old.
 *
 * Keys (all under `calendar-feed:`, so scans of `account:*` records never meet them):
 * - `calendar-feed:token:<sha256>` → account id
 * - `calendar-feed:account:<account id>` → hash { tokenHash, issuedAt }
 */

/** 32 random bytes, base64url: what `issue` hands out (anything else cannot be a feed token). */
export const calendarFeedTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/);
const TOKEN_KEY_PREFIX = 'calendar-feed:token:';
export const calendarFeedTokenKey = (tokenHash: string) => `${TOKEN_KEY_PREFIX}${tokenHash}`;
export const calendarFeedAccountKey = (accountId: string) => `calendar-feed:account:${accountId}`;

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

/** Replaces the account's token atomically (two renewals at once cannot leave two valid URLs). */
const REPLACE_TOKEN = `
local previous = redis.call('HGET', KEYS[1], 'tokenHash')
if previous then redis.call('DEL', ARGV[4] .. previous) end
if ARGV[1] == '' then
  redis.call('DEL', KEYS[1])
  return previous and 1 or 0
end
redis.call('HSET', KEYS[1], 'tokenHash', ARGV[1], 'issuedAt', ARGV[2])
redis.call('SET', ARGV[4] .. ARGV[1], ARGV[3])
return previous and 1 or 0`;

export interface CalendarFeedStatus {
  /** When the current address was issued (UTC ISO); the address itself cannot be shown again. */
  issuedAt: string;
}

export class CalendarFeedStore {
  private readonly redis: RedisClient;
  constructor(redis: RedisClient) {
    this.redis = redis;
  }

  /**
   * A new feed token for the account, revoking any earlier one. Returns the token (to be shown
   * once, in the feed URL) and whether an earlier one was revoked.
   */
  async issue(accountId: string): Promise<{ token: string; issuedAt: string; replaced: boolean }> {
    const token = randomBytes(32).toString('base64url');
    const issuedAt = new Date().toISOString();
    const replaced = await this.replace(accountId, hashToken(token), issuedAt);
    return { token, issuedAt, replaced };
  }

  /** The account whose feed this token opens, or null when unknown, revoked or malformed. */
  async accountId(token: string): Promise<string | null> {
    const parsed = calendarFeedTokenSchema.safeParse(token);
    if (!parsed.success) return null;
    return this.redis.get(calendarFeedTokenKey(hashToken(parsed.data)));
  }

  /** Whether the account has a feed address, and since when. */
  async status(accountId: string): Promise<CalendarFeedStatus | null> {
    const issuedAt = await this.redis.hGet(calendarFeedAccountKey(accountId), 'issuedAt');
    return issuedAt ? { issuedAt } : null;
  }

  /** Stops the account's feed address; true when there was one. */
  async revoke(accountId: string): Promise<boolean> {
    return this.replace(accountId, '', '');
  }

  private async replace(accountId: string, tokenHash: string, issuedAt: string): Promise<boolean> {
    const previous = await this.redis.eval(REPLACE_TOKEN, {
      keys: [calendarFeedAccountKey(accountId)],
      arguments: [tokenHash, issuedAt, accountId, TOKEN_KEY_PREFIX],
    });
    return previous === 1;
  }
}
