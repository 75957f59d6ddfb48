import { Secret, TOTP, URI } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { connectRedis, type RedisClient } from './redis.ts';
import { totpFactorSchema } from './records.ts';
import { TOTP_ISSUER, TotpVerifier, generateTotpSecret, matchingTotpStep, totpCode, totpUri } from './totp.ts';
import { TotpChallengeStore } from './totp-challenge.ts';
import { TotpEnrolmentStore } from './totp-enrolment.ts';

/** RFC 6238 Appendix B's SHA-1 secret ("12345678901234567890"). */
const RFC_SECRET = Secret.fromUTF8('12345678901234567890').base32;

describe('TOTP codes', () => {
  it('matches the RFC 6238 test vectors (last six digits)', () => {
    expect(totpCode(RFC_SECRET, 59_000)).toBe('287082');
    expect(totpCode(RFC_SECRET, 1_111_111_109_000)).toBe('081804');
    expect(totpCode(RFC_SECRET, 1_234_567_890_000)).toBe('005924');
  });

  it('accepts one step of drift either way and nothing further', () => {
    const now = 1_700_000_000_000;
    const step = Math.floor(now / 30_000);
    expect(matchingTotpStep(RFC_SECRET, totpCode(RFC_SECRET, now), now)).toBe(step);
    expect(matchingTotpStep(RFC_SECRET, totpCode(RFC_SECRET, now - 30_000), now)).toBe(step - 1);
    expect(matchingTotpStep(RFC_SECRET, totpCode(RFC_SECRET, now + 30_000), now)).toBe(step + 1);
    expect(matchingTotpStep(RFC_SECRET, totpCode(RFC_SECRET, now - 60_000), now)).toBeNull();
    expect(matchingTotpStep(RFC_SECRET, totpCode(RFC_SECRET, now + 60_000), now)).toBeNull();
  });

  it('takes codes typed with a space, and refuses anything but six digits', () => {
    const now = 1_700_000_000_000;
    const code = totpCode(RFC_SECRET, now);
    expect(matchingTotpStep(RFC_SECRET, `${code.slice(0, 3)} ${code.slice(3)}`, now)).not.toBeNull();
    for (const bad of ['', '12345', '1234567', 'abcdef']) expect(matchingTotpStep(RFC_SECRET, bad, now)).toBeNull();
  });

  it('makes 160-bit secrets that the account record accepts', () => {
    const secret = generateTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(generateTotpSecret()).not.toBe(secret);
    expect(totpFactorSchema.safeParse({ secret, enabledAt: new Date().toISOString() }).success).toBe(true);
  });

  it('describes the factor in an otpauth URI with the issuer and the username', () => {
    const secret = generateTotpSecret();
    const uri = totpUri(secret, 'kobayashi');
    expect(uri.startsWith('otpauth://totp/')).toBe(true);
    const parsed = URI.parse(uri);
    expect(parsed).toBeInstanceOf(TOTP);
    expect(parsed).toMatchObject({ issuer: TOTP_ISSUER, label: 'kobayashi', digits: 6, period: 30, algorithm: 'SHA1' });
    expect(parsed.secret.base32).toBe(secret);
  });
});

describe('TOTP state on a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = await connectRedis(server.url, () => undefined);
  });
  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  it('accepts a code once, and neither it nor an older one again', async () => {
    const verifier = new TotpVerifier(redis);
    const secret = generateTotpSecret();
    const now = Date.now();
    const code = totpCode(secret, now);
    expect(await verifier.verify('acc-1', secret, code, now)).toBe(true);
    expect(await verifier.verify('acc-1', secret, code, now)).toBe(false);
    expect(await verifier.verify('acc-1', secret, totpCode(secret, now - 30_000), now)).toBe(false);
    expect(await verifier.verify('acc-1', secret, totpCode(secret, now + 30_000), now)).toBe(true);
    expect(await verifier.verify('acc-2', secret, code, now)).toBe(true);
    expect(await verifier.verify('acc-3', secret, '000000', now)).toBe(code === '000000');
  });

  it('lets only one of two simultaneous uses of a code through', async () => {
    const verifier = new TotpVerifier(redis);
    const secret = generateTotpSecret();
    const code = totpCode(secret);
    const results = await Promise.all([1, 2, 3, 4].map(() => verifier.verify('acc-race', secret, code)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('keeps a pending second-factor challenge only as its hash, until closed', async () => {
    const challenges = new TotpChallengeStore(redis);
    const accountId = '0b7f4f0e-7d1c-4a55-9a39-2d3f0f9b1c11';
    const token = await challenges.open({ accountId, username: 'kobayashi' });
    expect(await challenges.get(token)).toEqual({ accountId, username: 'kobayashi' });
    expect((await redis.keys('totp:challenge:*')).some((key) => key.includes(token))).toBe(false);
    expect(await redis.ttl((await redis.keys('totp:challenge:*'))[0]!)).toBeLessThanOrEqual(300);
    expect(await challenges.get('not-a-token')).toBeNull();
    await challenges.close(token);
    expect(await challenges.get(token)).toBeNull();
  });

  it('offers the same pending secret until it is discarded', async () => {
    const enrolments = new TotpEnrolmentStore(redis);
    expect(await enrolments.peek('acc-enrol')).toBeNull();
    const secret = await enrolments.pendingSecret('acc-enrol');
    expect(await enrolments.pendingSecret('acc-enrol')).toBe(secret);
    expect(await enrolments.peek('acc-enrol')).toBe(secret);
    await enrolments.discard('acc-enrol');
    expect(await enrolments.pendingSecret('acc-enrol')).not.toBe(secret);
  });
});
