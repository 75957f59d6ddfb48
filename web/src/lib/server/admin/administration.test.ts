import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccountStore,
  AuditLog,
  InputError,
  SessionStore,
  SiteStore,
  connectRedis,
  type Account,
  type RedisClient,
  type StoredAuditEntry,
} from '@telemed/domain';
import { startTestRedis, type PrivateRedis } from '../../../../../stack/private-redis.ts';
import { ApiFailure } from '../api/api-response.ts';
import { webDomain } from '../domain.ts';
import {
  activateAccount,
  deactivateAccount,
  listAccounts,
  registerAccount,
  resetAccountPassword,
  updateAccount,
  viewAccount,
} from './account-administration.ts';
import type { AdminActor } from './admin-actor.ts';
import { readAuditTrail } from './audit-reading.ts';
import { registerSite, siteById, updateSite } from './site-administration.ts';

/** The operations behind the admin pages and the REST API, on a real Redis (through webDomain()). */
describe('administration on a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let audit: AuditLog;
  let admin: AdminActor;
  let coordinator: AdminActor;
  let doctor: AdminActor;

  const failureCode = async (promise: Promise<unknown>) => {
    const caught = await promise.then(
      () => null,
      (reason: unknown) => reason,
    );
    if (caught instanceof ApiFailure) return caught.code;
    if (caught instanceof InputError) return caught.issues.map((issue) => `${issue.field}:${issue.code}`).join(' ');
    throw caught;
  };
  const lastAudit = async (): Promise<StoredAuditEntry> => (await audit.recent(1))[0]!;

  beforeAll(async () => {
    server = await startTestRedis();
    process.env.REDIS_URL = server.url;
    process.env.AUTH_SECRET ??= 'administration-test-secret-0123456789abcdef';
    redis = await connectRedis(server.url, () => undefined);
    audit = new AuditLog(redis);
    const quiet = pino({ level: 'silent' });
    const sites = new SiteStore(redis, quiet);
    await sites.create({
      id: 'nankai-univ',
      nameJa: '南海大学病院',
      nameEn: 'Nankai University Hospital',
      kind: 'hub',
    });
    await sites.create({ id: 'aoshima', nameJa: '青島町立病院', nameEn: 'Aoshima Town Hospital', kind: 'hospital' });
    const accounts = new AccountStore(redis, quiet);
    const person = async (username: string, siteId: string, roles: Account['roles']) =>
      (await accounts.create({ username, password: `${username}-password`, displayName: username, siteId, roles }))!;
    admin = { account: await person('kobayashi', 'nankai-univ', ['admin']), ip: '192.0.2.10' };
    coordinator = { account: await person('tanaka', 'nankai-univ', ['coordinator']), ip: '192.0.2.11' };
    doctor = { account: await person('sato', 'aoshima', ['site-doctor']), ip: '192.0.2.12' };
  });
  afterAll(async () => {
    await (await webDomain()).redis.close();
    await redis?.close();
    await server?.stop();
  });

  it('lets admins register and change sites, auditing each change with what changed', async () => {
    const site = await registerSite(admin, {
      id: 'kuroshio',
      nameJa: '黒潮島診療所',
      nameEn: 'Kuroshio Island Clinic',
      kind: 'clinic',
      region: '青島医療圏',
    });
    expect(await lastAudit()).toMatchObject({
      action: 'site.created',
      actorAccountId: admin.account.id,
      siteId: 'nankai-univ',
      target: 'site:kuroshio',
      outcome: 'success',
      ip: '192.0.2.10',
    });
    expect(await updateSite(admin, site.id, { contact: { phone: '09-1234-5678' } })).toMatchObject({
      nameJa: '黒潮島診療所',
      contact: { phone: '09-1234-5678' },
    });
    expect((await lastAudit()).detail).toEqual({ changes: { 'contact.phone': { from: '', to: '09-1234-5678' } } });
  });

  it('refuses others and bad input, audits both, and keeps the stored site', async () => {
    expect(await failureCode(registerSite(doctor, { id: 'fake', nameJa: 'x', nameEn: 'x', kind: 'hub' }))).toBe(
      'forbidden',
    );
    expect(await lastAudit()).toMatchObject({ action: 'site.created', outcome: 'denied', target: 'site:fake' });
    expect(await failureCode(updateSite(coordinator, 'kuroshio', { nameJa: '乗っ取り' }))).toBe('forbidden');
    expect(await failureCode(updateSite(admin, 'kuroshio', { nameJa: '', nameEn: 'x'.repeat(101) }))).toBe(
      'nameJa:required nameEn:too_long',
    );
    expect(await lastAudit()).toMatchObject({
      action: 'site.updated',
      outcome: 'failure',
      detail: { fields: ['nameJa:required', 'nameEn:too_long'] },
    });
    expect(await failureCode(registerSite(admin, { id: 'kuroshio', nameJa: 'x', nameEn: 'x', kind: 'hub' }))).toBe(
      'id:taken',
    );
    expect(await failureCode(updateSite(admin, 'nowhere', { nameJa: 'x' }))).toBe('not_found');
    expect(await failureCode(siteById('../../x'))).toBe('not_found');
    expect((await siteById('kuroshio')).nameJa).toBe('黒潮島診療所');
  });

  it('shows coordinators the directory only, admins everything, others nothing; never a secret', async () => {
    const forCoordinator = await listAccounts(coordinator, { site: 'nankai-univ' });
    expect(forCoordinator.map((account) => account.username)).toEqual(['kobayashi', 'tanaka']);
    expect(Object.keys(forCoordinator[0]!).sort()).toEqual([
      'active',
      'displayName',
      'id',
      'roles',
      'siteId',
      'username',
    ]);
    const forAdmin = await viewAccount(admin, doctor.account.id);
    expect(forAdmin).toMatchObject({ username: 'sato', mustChangePassword: false, secondFactor: false });
    expect(JSON.stringify(await listAccounts(admin))).not.toMatch(/scrypt|passwordHash|totp/);
    expect(await listAccounts(admin, { role: 'site-doctor' })).toHaveLength(1);
    expect(await failureCode(listAccounts(doctor))).toBe('forbidden');
    expect(await lastAudit()).toMatchObject({ action: 'account.listed', outcome: 'denied' });
    expect(await failureCode(viewAccount(admin, 'not-an-id'))).toBe('not_found');
  });

  it('creates, changes and resets accounts, auditing without passwords', async () => {
    const created = await registerAccount(admin, {
      username: 'higa',
      displayName: '比嘉 優子',
      siteId: 'kuroshio',
      roles: ['site-doctor'],
      password: 'initial-password-1',
    });
    expect(created).toMatchObject({ username: 'higa', mustChangePassword: true, active: true });
    expect(await failureCode(registerAccount(coordinator, { username: 'x' }))).toBe('forbidden');
    expect(
      await failureCode(
        registerAccount(admin, {
          username: 'higa2',
          displayName: 'x',
          siteId: 'atlantis',
          roles: ['observer'],
          password: 'initial-password-1',
        }),
      ),
    ).toBe('siteId:unknown_site');

    expect(await updateAccount(admin, created.id, { roles: ['site-doctor', 'observer'] })).toMatchObject({
      roles: ['site-doctor', 'observer'],
    });
    expect((await lastAudit()).detail).toEqual({
      changes: { roles: { from: ['site-doctor'], to: ['site-doctor', 'observer'] } },
    });
    expect(await failureCode(updateAccount(admin, admin.account.id, { roles: ['coordinator'] }))).toBe('conflict');

    const reset = await resetAccountPassword(admin, created.id);
    expect(reset.temporaryPassword).toHaveLength(14);
    const trail = JSON.stringify(await audit.recent(50));
    expect(trail).not.toContain(reset.temporaryPassword);
    expect(trail).not.toContain('initial-password-1');
    expect(await lastAudit()).toMatchObject({ action: 'account.password-reset', target: `account:${created.id}` });
  });

  it('deactivates others (ending their hosted sessions) but never oneself, and activates again', async () => {
    const { sessions } = { sessions: new SessionStore(redis, pino({ level: 'silent' })) };
    const upcoming = await sessions.create(
      {
        title: '定例カンファレンス',
        startsAt: new Date(Date.now() + 86_400_000).toISOString(),
        endsAt: new Date(Date.now() + 90_000_000).toISOString(),
      },
      coordinator.account,
    );
    expect(await failureCode(deactivateAccount(admin, admin.account.id))).toBe('conflict');
    expect(await failureCode(deactivateAccount(doctor, coordinator.account.id))).toBe('forbidden');
    const report = await deactivateAccount(admin, coordinator.account.id);
    expect(report).toMatchObject({ account: { active: false }, cancelledSessionIds: [upcoming.session.id] });
    expect(await lastAudit()).toMatchObject({
      action: 'account.deactivated',
      target: `account:${coordinator.account.id}`,
      detail: { cancelledSessionIds: [upcoming.session.id], alreadyInactive: false },
    });
    expect((await activateAccount(admin, coordinator.account.id)).active).toBe(true);
    expect(await lastAudit()).toMatchObject({ action: 'account.activated', outcome: 'success' });
  });

  it('lets admins read the audit trail (itself audited), and no one else', async () => {
    const page = await readAuditTrail(admin, { action: 'account.', format: 'json', limit: 3 }, 'api');
    expect(page.entries).toHaveLength(3);
    expect(page.entries.every((entry) => entry.action.startsWith('account.'))).toBe(true);
    expect(page.nextCursor).not.toBeNull();
    expect(await lastAudit()).toMatchObject({
      action: 'audit.exported',
      detail: { filter: { action: 'account.' }, format: 'json', entries: 3 },
    });
    const tokyo = await readAuditTrail(admin, { from: '2000-01-01T09:00', format: 'json' }, 'page');
    expect(tokyo.entries.length).toBeGreaterThan(5);
    expect(await failureCode(readAuditTrail(coordinator, { format: 'csv' }, 'api'))).toBe('forbidden');
    expect(await lastAudit()).toMatchObject({ action: 'audit.exported', outcome: 'denied' });
  });
});
