import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { AccountStore } from './account-store.ts';
import { InputError } from './field-issues.ts';
import { connectRedis, type RedisClient } from './redis.ts';
import { generateTotpSecret } from './totp.ts';

const warnings: string[] = [];
const recorder = { warn: (_details: object, message: string) => warnings.push(message) };

describe('account password and second factor on a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let accounts: AccountStore;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = await connectRedis(server.url, () => undefined);
    accounts = new AccountStore(redis, recorder);
  });
  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  const newAccount = (username: string) =>
    accounts.create({
      username,
      password: `${username}-old-password`,
      displayName: '試験 太郎',
      siteId: 'aoshima',
      roles: ['coordinator'],
    });

  it('changes the password, clearing the demand to change it', async () => {
    const created = await newAccount('hayashi');
    await redis.set(`account:${created!.id}`, JSON.stringify({ ...created, mustChangePassword: true }));

    const changed = await accounts.changePassword(created!.id, 'a-new-long-password');
    expect(changed?.mustChangePassword).toBe(false);
    expect(changed?.updatedAt).toBeDefined();
    expect(await accounts.authenticate('hayashi', 'hayashi-old-password')).toBeNull();
    expect((await accounts.authenticate('hayashi', 'a-new-long-password'))?.id).toBe(created!.id);
  });

  it('refuses a password against the policy and changes nothing', async () => {
    const created = await newAccount('mori-k');
    for (const password of ['short', 'mori-k', 'x'.repeat(257)]) {
      const failure = await accounts.changePassword(created!.id, password).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(InputError);
      expect((failure as InputError).issues[0]?.field).toBe('newPassword');
    }
    expect(await accounts.authenticate('mori-k', 'mori-k-old-password')).not.toBeNull();
    expect(await accounts.changePassword('6d1b1f38-9a0e-4f4e-8d63-6c2f5c1e0a77', 'a-new-long-password')).toBeNull();
  });

  it('enables and disables the second factor, keeping the other fields', async () => {
    const created = await newAccount('ishida');
    const secret = generateTotpSecret();
    const enabled = await accounts.enableTotp(created!.id, secret);
    expect(enabled?.totp?.secret).toBe(secret);
    expect((await accounts.get(created!.id))?.totp?.secret).toBe(secret);
    expect((await accounts.get(created!.id))?.roles).toEqual(['coordinator']);
    expect((await accounts.disableTotp(created!.id))?.totp).toBeNull();
    await expect(accounts.enableTotp(created!.id, 'not base32!')).rejects.toThrow();
  });

  it('leaves a damaged record alone and reports it', async () => {
    const created = await newAccount('kudo');
    await redis.set(`account:${created!.id}`, '{"broken":');
    expect(await accounts.disableTotp(created!.id)).toBeNull();
    expect(await redis.get(`account:${created!.id}`)).toBe('{"broken":');
    expect(warnings).toContain('stored record does not parse; not changed');
  });
});
