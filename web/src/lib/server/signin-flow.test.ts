import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccountStore,
  AuditLog,
  SigninGuard,
  TotpChallengeStore,
  TotpVerifier,
  connectRedis,
  generateTotpSecret,
  totpCode,
  type Account,
  type RedisClient,
  type StoredAuditEntry,
} from '@telemed/domain';
import { startTestRedis, type PrivateRedis } from '../../../../stack/private-redis.ts';
import { completeTotp, confirmCurrentPassword, signInWithPassword, type SigninFlowStores } from './signin-flow.ts';

describe('sign-in flow on a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let stores: SigninFlowStores;
  let accounts: AccountStore;
  let sequence = 0;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = await connectRedis(server.url, () => undefined);
    accounts = new AccountStore(redis, pino({ level: 'silent' }));
    stores = {
      accounts,
      audit: new AuditLog(redis),
      signinGuard: new SigninGuard(redis),
      totpVerifier: new TotpVerifier(redis),
      totpChallenges: new TotpChallengeStore(redis),
    };
  });
  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  /** A fresh account (and source address) per test, so counts never carry over. */
  async function person(options: { totp?: boolean } = {}) {
    sequence += 1;
    const username = `doctor${sequence}`;
    const password = `${username}-password`;
    let account = (await accounts.create({
      username,
      password,
      displayName: '試験 医師',
      siteId: 'aoshima',
      roles: ['coordinator'],
    })) as Account;
    const secret = generateTotpSecret();
    if (options.totp) account = (await accounts.enableTotp(account.id, secret))!;
    return { account, username, password, secret, source: { ip: `192.0.2.${sequence}`, channel: 'web' as const } };
  }

  const lastAudit = async (): Promise<StoredAuditEntry> => (await stores.audit.recent(1))[0]!;

  it('signs in with the right password and audits who, where from and which site', async () => {
    const { account, username, password, source } = await person();
    const outcome = await signInWithPassword({ username: username.toUpperCase(), password, source }, stores);
    expect(outcome).toEqual({ kind: 'signed-in', account });
    expect(await lastAudit()).toMatchObject({
      action: 'signin.succeeded',
      actorAccountId: account.id,
      target: `account:${account.id}`,
      outcome: 'success',
      siteId: 'aoshima',
      ip: source.ip,
      detail: { username, channel: 'web', secondFactor: 'none' },
    });
  });

  it('answers a wrong password and an unknown username alike, and audits both as failures', async () => {
    const { account, username, source } = await person();
    expect(await signInWithPassword({ username, password: 'wrong-password', source }, stores)).toEqual({
      kind: 'failed',
    });
    expect(await lastAudit()).toMatchObject({
      action: 'signin.failed',
      actorAccountId: null,
      target: `account:${account.id}`,
      outcome: 'failure',
      detail: { reason: 'wrong-password' },
    });
    expect(await signInWithPassword({ username: 'nobody-here', password: 'x', source }, stores)).toEqual({
      kind: 'failed',
    });
    expect((await lastAudit()).detail).toMatchObject({ username: 'nobody-here', reason: 'unknown-username' });
  });

  it('refuses a deactivated account even with the right password', async () => {
    const { account, username, password, source } = await person();
    await redis.set(`account:${account.id}`, JSON.stringify({ ...account, active: false }));
    expect((await signInWithPassword({ username, password, source }, stores)).kind).toBe('failed');
    expect((await lastAudit()).detail).toMatchObject({ reason: 'inactive' });
  });

  it('locks a username after five failures, then refuses even the right password until it unlocks', async () => {
    const { username, password, source } = await person();
    for (let failure = 0; failure < 4; failure++) {
      expect((await signInWithPassword({ username, password: 'guess', source }, stores)).kind).toBe('failed');
    }
    const fifth = await signInWithPassword({ username, password: 'guess', source }, stores);
    expect(fifth.kind).toBe('locked');
    const refused = await signInWithPassword({ username, password, source }, stores);
    expect(refused.kind).toBe('locked');
    if (refused.kind === 'locked') expect(refused.until.getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
    expect(await lastAudit()).toMatchObject({ action: 'signin.locked', outcome: 'denied', ip: source.ip });

    // An unknown username locks the same way, so a lock says nothing about which names exist.
    for (let failure = 0; failure < 5; failure++) {
      await signInWithPassword({ username: 'ghost-user', password: 'guess', source }, stores);
    }
    expect((await signInWithPassword({ username: 'ghost-user', password: 'guess', source }, stores)).kind).toBe(
      'locked',
    );
  });

  it('limits attempts per source address and says when to retry', async () => {
    const limited = { ...stores, signinGuard: new SigninGuard(redis, { addressMaxAttempts: 3 }) };
    const { username, password } = await person();
    const source = { ip: '198.51.100.77', channel: 'api' as const };
    for (let attempt = 0; attempt < 3; attempt++) {
      await signInWithPassword({ username: `other${attempt}`, password: 'guess', source }, limited);
    }
    const outcome = await signInWithPassword({ username, password, source }, limited);
    expect(outcome.kind).toBe('rate-limited');
    if (outcome.kind === 'rate-limited') expect(outcome.retryAfterSeconds).toBeGreaterThan(0);
    expect(await lastAudit()).toMatchObject({
      action: 'signin.rate-limited',
      outcome: 'denied',
      ip: source.ip,
      detail: { channel: 'api' },
    });
  });

  it('asks an account with a second factor for its code, and signs it in with the right one once', async () => {
    const { account, username, password, secret, source } = await person({ totp: true });
    const first = await signInWithPassword({ username, password, source }, stores);
    expect(first.kind).toBe('totp-required');
    if (first.kind !== 'totp-required') return;
    expect(await lastAudit()).toMatchObject({ action: 'signin.totp-required', actorAccountId: account.id });

    expect(await completeTotp({ challenge: first.challenge, code: '12345x', source }, stores)).toEqual({
      kind: 'totp-failed',
    });
    expect(await lastAudit()).toMatchObject({ action: 'signin.totp-failed', outcome: 'failure' });

    const code = totpCode(secret);
    const done = await completeTotp({ challenge: first.challenge, code, source }, stores);
    expect(done.kind).toBe('signed-in');
    expect((await lastAudit()).detail).toMatchObject({ secondFactor: 'totp' });
    expect((await completeTotp({ challenge: first.challenge, code, source }, stores)).kind).toBe('expired');

    // The same code cannot open a second sign-in.
    const again = await signInWithPassword({ username, password, source }, stores);
    if (again.kind !== 'totp-required') throw new Error(again.kind);
    expect((await completeTotp({ challenge: again.challenge, code, source }, stores)).kind).toBe('totp-failed');
  });

  it('counts wrong codes toward the lock and ends the challenge when it locks', async () => {
    const { username, password, source } = await person({ totp: true });
    const first = await signInWithPassword({ username, password, source }, stores);
    if (first.kind !== 'totp-required') throw new Error(first.kind);
    for (let failure = 0; failure < 4; failure++) {
      expect((await completeTotp({ challenge: first.challenge, code: '000000', source }, stores)).kind).not.toBe(
        'signed-in',
      );
    }
    // A right password does not reset the count while the code is still wrong.
    const second = await signInWithPassword({ username, password, source }, stores);
    if (second.kind !== 'totp-required') throw new Error(second.kind);
    const locked = await completeTotp({ challenge: second.challenge, code: '000001', source }, stores);
    expect(locked.kind).toBe('locked');
    expect(await stores.totpChallenges.get(second.challenge)).toBeNull();
    expect((await signInWithPassword({ username, password, source }, stores)).kind).toBe('locked');
  });

  it('checks a code given with the password (the API) at once', async () => {
    const { username, password, secret, source } = await person({ totp: true });
    expect((await signInWithPassword({ username, password, totpCode: '', source }, stores)).kind).toBe('totp-failed');
    const outcome = await signInWithPassword({ username, password, totpCode: totpCode(secret), source }, stores);
    expect(outcome.kind).toBe('signed-in');
  });

  it('confirms the current password, counting wrong ones toward the lock', async () => {
    const { account, password, source } = await person();
    expect(await confirmCurrentPassword(account, password, source.ip, stores)).toEqual({ kind: 'confirmed' });
    for (let failure = 0; failure < 4; failure++) {
      expect(await confirmCurrentPassword(account, 'wrong', source.ip, stores)).toEqual({ kind: 'wrong' });
    }
    expect((await confirmCurrentPassword(account, 'wrong', source.ip, stores)).kind).toBe('locked');
    expect((await confirmCurrentPassword(account, password, source.ip, stores)).kind).toBe('locked');
  });
});
