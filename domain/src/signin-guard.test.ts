import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { connectRedis, type RedisClient } from './redis.ts';
import { SigninGuard } from './signin-guard.ts';

describe('sign-in guard on a real Redis', () => {
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

  it('locks a username after five failures for fifteen minutes, whether or not it exists', async () => {
    const guard = new SigninGuard(redis);
    for (let failure = 1; failure <= 4; failure++) expect(await guard.recordFailure('no-such-user')).toBeNull();
    expect(await guard.lockedUntil('no-such-user')).toBeNull();

    const until = await guard.recordFailure('No-Such-User ');
    expect(until).not.toBeNull();
    const expected = Date.now() + 15 * 60_000;
    expect(Math.abs(until!.getTime() - expected)).toBeLessThan(2000);
    const reported = await guard.lockedUntil('NO-SUCH-USER');
    expect(Math.abs(reported!.getTime() - until!.getTime())).toBeLessThan(2000);
    expect(await guard.lockedUntil('someone-else')).toBeNull();
  });

  it('forgets failures after a full sign-in, and lifts a lock on unlock', async () => {
    const guard = new SigninGuard(redis);
    for (let failure = 0; failure < 4; failure++) await guard.recordFailure('sato');
    await guard.recordSuccess('sato', '192.0.2.1');
    for (let failure = 0; failure < 4; failure++) expect(await guard.recordFailure('sato')).toBeNull();
    expect(await guard.recordFailure('sato')).not.toBeNull();

    await guard.unlock('sato');
    expect(await guard.lockedUntil('sato')).toBeNull();
    expect(await guard.recordFailure('sato')).toBeNull();
  });

  it('ends a lock when its time is up (configurable)', async () => {
    const guard = new SigninGuard(redis, { maxFailures: 2, lockSeconds: 1 });
    await guard.recordFailure('brief');
    expect(await guard.recordFailure('brief')).not.toBeNull();
    expect(await guard.lockedUntil('brief')).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await guard.lockedUntil('brief')).toBeNull();
  });

  it('admits at most 30 attempts per address per window, and says when to retry', async () => {
    const guard = new SigninGuard(redis);
    for (let attempt = 0; attempt < 30; attempt++) {
      expect(await guard.admitAttempt('198.51.100.7')).toEqual({ admitted: true });
    }
    const refused = await guard.admitAttempt('198.51.100.7');
    expect(refused.admitted).toBe(false);
    if (!refused.admitted) expect(refused.retryAfterSeconds).toBeGreaterThan(290);
    expect(await guard.admitAttempt('198.51.100.8')).toEqual({ admitted: true });
  });

  it('gives successful attempts back, so colleagues behind one address are not shut out', async () => {
    const guard = new SigninGuard(redis, { addressMaxAttempts: 3 });
    for (let signin = 0; signin < 10; signin++) {
      expect((await guard.admitAttempt('203.0.113.5')).admitted).toBe(true);
      await guard.giveBackAttempt('203.0.113.5');
    }
    for (let attempt = 0; attempt < 3; attempt++) await guard.admitAttempt('203.0.113.5');
    expect((await guard.admitAttempt('203.0.113.5')).admitted).toBe(false);
  });

  it('does not let parallel attempts slip past the limit', async () => {
    const guard = new SigninGuard(redis, { addressMaxAttempts: 10 });
    const results = await Promise.all(Array.from({ length: 25 }, () => guard.admitAttempt('203.0.113.9')));
    expect(results.filter((result) => result.admitted)).toHaveLength(10);
  });
});
