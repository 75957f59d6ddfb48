import { generateTotpSecret } from './totp.ts';
import type { RedisClient } from './redis.ts';

/**
 * A secret offered to an account while it sets up its authenticator app. It becomes the
 * account's second factor only once a code made from it is confirmed (so a half-done enrolment
 * never locks anyone out); until then it waits here, server-side, for a quarter of an hour.
 */
export const TOTP_ENROLMENT_TTL_SECONDS = 15 * 60;

const pendingKey = (accountId: string) => `totp:enrolment:${accountId}`;

export class TotpEnrolmentStore {
  private readonly redis: RedisClient;
  constructor(redis: RedisClient) {
    this.redis = redis;
  }

  /** The secret on offer to the account, made now if none is pending (a reload shows the same QR code). */
  async pendingSecret(accountId: string): Promise<string> {
    const fresh = generateTotpSecret();
    const claimed = await this.redis.set(pendingKey(accountId), fresh, {
      condition: 'NX',
      expiration: { type: 'EX', value: TOTP_ENROLMENT_TTL_SECONDS },
    });
    if (claimed !== null) return fresh;
    return (await this.redis.get(pendingKey(accountId))) ?? this.pendingSecret(accountId);
  }

  /** The pending secret without making one, or null. */
  async peek(accountId: string): Promise<string | null> {
    return this.redis.get(pendingKey(accountId));
  }

  async discard(accountId: string): Promise<void> {
    await this.redis.del(pendingKey(accountId));
  }
}
