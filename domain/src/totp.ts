import { Secret, TOTP } from 'otpauth';
import { z } from 'zod';
import type { RedisClient } from './redis.ts';

/**
 * The TOTP second factor (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps), as every common
 * authenticator app speaks it. The `otpauth` library does the arithmetic; this module adds what
 * RFC 6238 §5.2 asks of a verifier: accept one step of clock drift either way, and never accept
 * a code (or an older one) again once it has been used.
 */

export const TOTP_ISSUER = '離島遠隔カンファレンス';
const PERIOD_SECONDS = 30;
const DIGITS = 6;
/** Steps of clock drift accepted either way. */
const WINDOW = 1;

/** Six digits; spaces and hyphens people type to group them ("123 456") are dropped. */
export const totpCodeSchema = z.preprocess(
  (value) => (typeof value === 'string' ? value.replace(/[\s-]/g, '') : value),
  z.string().regex(/^[0-9]{6}$/, 'six digits'),
);

/** A new random shared secret (160 bits, as RFC 4226 recommends), in base32. */
export function generateTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totpFor(secret: string, username = ''): TOTP {
  return new TOTP({
    issuer: TOTP_ISSUER,
    label: username,
    algorithm: 'SHA1',
    digits: DIGITS,
    period: PERIOD_SECONDS,
    secret: Secret.fromBase32(secret),
  });
}

/** The `otpauth://totp/...` URI an authenticator app reads from the enrolment QR code. */
export function totpUri(secret: string, username: string): string {
  return totpFor(secret, username).toString();
}

/** The code an authenticator shows at `timestamp` (for tests and the demo). */
export function totpCode(secret: string, timestamp = Date.now()): string {
  return totpFor(secret).generate({ timestamp });
}

/** The time step a code matches within the drift window, or null. */
export function matchingTotpStep(secret: string, code: string, timestamp = Date.now()): number | null {
  const parsed = totpCodeSchema.safeParse(code);
  if (!parsed.success) return null;
  const totp = totpFor(secret);
  const delta = totp.validate({ token: parsed.data, timestamp, window: WINDOW });
  return delta === null ? null : totp.counter({ timestamp }) + delta;
}

const lastStepKey = (accountId: string) => `totp:last:${accountId}`;

/**
 * Takes a step only if it is later than the last one taken (atomically, so two requests with
 * the same code cannot both pass). Kept a little longer than a code can stay valid.
 */
const TAKE_STEP = `
local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1`;

export class TotpVerifier {
  private readonly redis: RedisClient;
  constructor(redis: RedisClient) {
    this.redis = redis;
  }

  /** Whether `code` is right for `secret` now and has not been used by this account before. */
  async verify(accountId: string, secret: string, code: string, timestamp = Date.now()): Promise<boolean> {
    const step = matchingTotpStep(secret, code, timestamp);
    if (step === null) return false;
    const taken = await this.redis.eval(TAKE_STEP, {
      keys: [lastStepKey(accountId)],
      arguments: [String(step), String(PERIOD_SECONDS * (2 * WINDOW + 2))],
    });
    return taken === 1;
  }
}
