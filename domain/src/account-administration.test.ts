import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { AccountStore } from './account-store.ts';
import { InputError } from './field-issues.ts';
import { hashPassword } from './password.ts';
import { connectRedis, type RedisClient } from './redis.ts';
import { SiteStore } from './site-store.ts';

const warnings: string[] = [];
const recorder = { warn: (_details: object, message: string) => warnings.push(message) };

async function inputIssues(promise: Promise<unknown>) {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(InputError);
  return (error as InputError).issues.map(({ field, code }) => ({ field, code }));
}

const draft = {
  username: 'Higa.Nurse',
  displayName: '比嘉 優子',
  siteId: 'aoshima',
  roles: ['site-doctor', 'site-doctor', 'observer'],
  password: 'first-password-2026',
};

describe('account administration on a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let accounts: AccountStore;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = await connectRedis(server.url, () => undefined);
    accounts = new AccountStore(redis, recorder);
    const sites = new SiteStore(redis, recorder);
    await sites.create({ id: 'aoshima', nameJa: '青島町立病院', nameEn: 'Aoshima Town Hospital', kind: 'hospital' });
    await sites.create({
      id: 'nankai-univ',
      nameJa: '南海大学病院',
      nameEn: 'Nankai University Hospital',
      kind: 'hub',
    });
  });
  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  it('registers an account that must choose its own password at first sign-in', async () => {
    const account = await accounts.register(draft);
    expect(account).toMatchObject({
      username: 'higa.nurse',
      displayName: '比嘉 優子',
      siteId: 'aoshima',
      roles: ['site-doctor', 'observer'],
      active: true,
      mustChangePassword: true,
      totp: null,
    });
    expect(account.passwordHash).toMatch(/^scrypt\$/);
    expect(await redis.get(`account:${account.id}`)).not.toContain(draft.password);
    expect((await accounts.authenticate('higa.nurse', draft.password))?.id).toBe(account.id);
  });

  it('refuses bad input field by field and stores nothing', async () => {
    const before = await redis.dbSize();
    expect(
      await inputIssues(
        accounts.register({ username: 'x', displayName: '', siteId: 'aoshima', roles: [], password: 'short' }),
      ),
    ).toEqual([
      { field: 'username', code: 'invalid_format' },
      { field: 'displayName', code: 'required' },
      { field: 'roles', code: 'too_short' },
      { field: 'password', code: 'too_short' },
    ]);
    expect(await inputIssues(accounts.register({ ...draft, roles: ['janitor'] }))).toEqual([
      { field: 'roles.0', code: 'invalid_value' },
    ]);
    expect(await inputIssues(accounts.register({ ...draft, username: 'kinjo-tomo', password: 'KINJO-TOMO' }))).toEqual([
      { field: 'password', code: 'invalid_value' },
    ]);
    expect(await inputIssues(accounts.register({ ...draft, username: 'kinjo', siteId: 'atlantis' }))).toEqual([
      { field: 'siteId', code: 'unknown_site' },
    ]);
    expect(await inputIssues(accounts.register({ ...draft, username: 'HIGA.NURSE' }))).toEqual([
      { field: 'username', code: 'taken' },
    ]);
    expect(await redis.dbSize()).toBe(before);
  });

  it('lists every account, also ones stored before there was any index, skipping damaged ones', async () => {
    const legacyId = randomUUID();
    await redis.set(
      `account:${legacyId}`,
      JSON.stringify({
        id: legacyId,
        username: 'legacy',
        displayName: '旧 データ',
        siteId: 'aoshima',
        roles: ['observer'],
        passwordHash: await hashPassword('legacy-password'),
        active: true,
        createdAt: '2025-01-01T00:00:00.000Z',
      }),
    );
    await redis.set('account:username:legacy', legacyId);
    await redis.set(`account:${randomUUID()}`, '{"username": broken');
    const listed = await accounts.list();
    expect(listed.map((account) => account.username)).toEqual(['higa.nurse', 'legacy']);
    expect(listed.find((account) => account.username === 'legacy')?.mustChangePassword).toBe(false);
    expect(warnings.some((message) => message.includes('does not parse'))).toBe(true);
  });

  it('changes name, site and roles, reports what changed, and never the username', async () => {
    const account = (await accounts.findByUsername('higa.nurse'))!;
    const updated = await accounts.update(account.id, {
      displayName: '比嘉 優子（看護）',
      siteId: 'nankai-univ',
      roles: ['coordinator'],
    });
    expect(updated?.account).toMatchObject({
      username: 'higa.nurse',
      displayName: '比嘉 優子（看護）',
      siteId: 'nankai-univ',
      roles: ['coordinator'],
      passwordHash: account.passwordHash,
    });
    expect(updated?.changes).toEqual({
      displayName: { from: '比嘉 優子', to: '比嘉 優子（看護）' },
      siteId: { from: 'aoshima', to: 'nankai-univ' },
      roles: { from: ['site-doctor', 'observer'], to: ['coordinator'] },
    });

    const stored = await redis.get(`account:${account.id}`);
    expect(
      await inputIssues(accounts.update(account.id, { siteId: 'atlantis', displayName: 'x'.repeat(101) })),
    ).toEqual([{ field: 'displayName', code: 'too_long' }]);
    expect(await inputIssues(accounts.update(account.id, { siteId: 'atlantis' }))).toEqual([
      { field: 'siteId', code: 'unknown_site' },
    ]);
    expect(await inputIssues(accounts.update(account.id, { username: 'someone-else', roles: [] }))).toEqual([
      { field: 'username', code: 'invalid_value' },
    ]);
    expect(await redis.get(`account:${account.id}`)).toBe(stored);
    expect(await accounts.update(randomUUID(), { displayName: 'x' })).toBeNull();
    expect(await accounts.update('username:legacy', { displayName: 'x' })).toBeNull();
  });

  it('resets a password to a temporary one that works once told, and must then be changed', async () => {
    const account = (await accounts.findByUsername('legacy'))!;
    const reset = await accounts.resetPassword(account.id);
    expect(reset?.temporaryPassword).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    expect(reset?.account.mustChangePassword).toBe(true);
    expect(await accounts.authenticate('legacy', 'legacy-password')).toBeNull();
    expect((await accounts.authenticate('legacy', reset!.temporaryPassword))?.id).toBe(account.id);
    expect(await redis.get(`account:${account.id}`)).not.toContain(reset!.temporaryPassword);
    expect((await accounts.resetPassword(account.id))?.temporaryPassword).not.toBe(reset!.temporaryPassword);
    expect(await accounts.resetPassword(randomUUID())).toBeNull();
  });

  it('deactivates and activates; an inactive account cannot sign in', async () => {
    const account = (await accounts.findByUsername('higa.nurse'))!;
    expect((await accounts.setActive(account.id, false))?.changed).toBe(true);
    expect((await accounts.setActive(account.id, false))?.changed).toBe(false);
    expect(await accounts.authenticate('higa.nurse', draft.password)).toBeNull();
    expect((await accounts.setActive(account.id, true))?.account.active).toBe(true);
    expect((await accounts.authenticate('higa.nurse', draft.password))?.id).toBe(account.id);
    expect(await accounts.setActive(randomUUID(), true)).toBeNull();
  });
});
