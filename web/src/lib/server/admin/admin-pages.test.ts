import { pino } from 'pino';
import { isActionFailure, isHttpError, isRedirect } from '@sveltejs/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore, AuditLog, SiteStore, connectRedis, type Account, type RedisClient } from '@telemed/domain';
import { startTestRedis, type PrivateRedis } from '../../../../../stack/private-redis.ts';
import * as accountPage from '../../../routes/admin/accounts/[id]/+page.server.ts';
import * as accountsPage from '../../../routes/admin/accounts/+page.server.ts';
import * as auditPage from '../../../routes/admin/audit/+page.server.ts';
import * as sitesPage from '../../../routes/admin/sites/+page.server.ts';
import { webDomain } from '../domain.ts';
import { signedIn } from '../signin.ts';

/** The admin pages' loads and form actions, called as SvelteKit calls them. */
describe('admin pages on a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let admin: Account;
  let coordinator: Account;

  beforeAll(async () => {
    server = await startTestRedis();
    process.env.REDIS_URL = server.url;
    process.env.AUTH_SECRET ??= 'admin-pages-test-secret-0123456789abcdef';
    redis = await connectRedis(server.url, () => undefined);
    const quiet = pino({ level: 'silent' });
    await new SiteStore(redis, quiet).create({
      id: 'aoshima',
      nameJa: '青島町立病院',
      nameEn: 'Aoshima',
      kind: 'hospital',
    });
    const accounts = new AccountStore(redis, quiet);
    const base = { siteId: 'aoshima', password: 'long-enough-password' };
    admin = (await accounts.create({ ...base, username: 'kobayashi', displayName: '小林', roles: ['admin'] }))!;
    coordinator = (await accounts.create({
      ...base,
      username: 'tanaka',
      displayName: '田中',
      roles: ['coordinator'],
    }))!;
  });
  afterAll(async () => {
    await (await webDomain()).redis.close();
    await redis?.close();
    await server?.stop();
  });

  function event(as: Account | null, path: string, options: { form?: Record<string, string | string[]> } = {}) {
    const url = new URL(path, 'http://telemed.test');
    const body = new FormData();
    for (const [name, value] of Object.entries(options.form ?? {})) {
      for (const item of [value].flat()) body.append(name, item);
    }
    return {
      url,
      params: Object.fromEntries([...url.pathname.matchAll(/\/accounts\/([^/]+)/g)].map((match) => ['id', match[1]])),
      locals: { account: as ? signedIn(as) : null, language: 'ja' },
      request: new Request(url, options.form ? { method: 'POST', body } : {}),
      getClientAddress: () => '203.0.113.5',
      parent: async () => ({}),
    } as never;
  }

  const outcome = async (run: () => unknown) => {
    try {
      return { value: await run() };
    } catch (caught) {
      if (isHttpError(caught)) return { status: caught.status };
      if (isRedirect(caught)) return { redirect: caught.location };
      throw caught;
    }
  };

  it('sends visitors to sign in, and shows others the 403 page (audited)', async () => {
    expect(await outcome(() => accountsPage.load(event(null, '/admin/accounts')))).toEqual({
      redirect: '/login?next=%2Fadmin%2Faccounts',
    });
    expect(await outcome(() => accountsPage.load(event(coordinator, '/admin/accounts')))).toEqual({ status: 403 });
    expect(await outcome(() => sitesPage.actions.create!(event(coordinator, '/admin/sites', { form: {} })))).toEqual({
      status: 403,
    });
    expect((await new AuditLog(redis).recent(1))[0]).toMatchObject({
      action: 'admin.denied',
      outcome: 'denied',
      detail: { path: '/admin/sites' },
    });
  });

  it('answers a bad site form with field issues and the values typed, and registers a good one', async () => {
    const form = {
      id: 'kuroshio',
      nameJa: '黒潮島診療所',
      nameEn: 'Kuroshio Island Clinic',
      kind: 'clinic',
      region: '',
      'contact.person': '',
      'contact.phone': 'call me',
      'contact.email': '',
    };
    const refused = (await outcome(() => sitesPage.actions.create!(event(admin, '/admin/sites', { form })))).value;
    expect(isActionFailure(refused)).toBe(true);
    expect(refused).toMatchObject({
      status: 400,
      data: { values: form, issues: [{ field: 'contact.phone', code: 'invalid_format' }] },
    });
    const saved = await outcome(() =>
      sitesPage.actions.create!(event(admin, '/admin/sites', { form: { ...form, 'contact.phone': '09-1234' } })),
    );
    expect(saved).toEqual({ redirect: '/admin/sites?created=kuroshio#site-kuroshio' });
  });

  it('creates an account, filters the list, resets its password once, and refuses self-deactivation', async () => {
    const created = await outcome(() =>
      accountsPage.actions.create!(
        event(admin, '/admin/accounts', {
          form: {
            username: 'higa',
            displayName: '比嘉 優子',
            siteId: 'kuroshio',
            roles: ['site-doctor', 'observer'],
            password: 'initial-password',
          },
        }),
      ),
    );
    const higa = (await new AccountStore(redis, pino({ level: 'silent' })).findByUsername('higa'))!;
    expect(created).toEqual({ redirect: `/admin/accounts/${higa.id}?created=1` });

    const listed = (await accountsPage.load(event(admin, '/admin/accounts?site=kuroshio&role=&status=active'))) as {
      accounts: { username: string }[];
      filter: object;
    };
    expect(listed.accounts.map((account) => account.username)).toEqual(['higa']);
    expect(listed.filter).toEqual({ site: 'kuroshio', status: 'active' });

    const page = (await accountPage.load(event(admin, `/admin/accounts/${higa.id}?confirm=deactivate`))) as {
      confirm: string;
      account: object;
    };
    expect(page.confirm).toBe('deactivate');
    expect(JSON.stringify(page)).not.toMatch(/scrypt|passwordHash/);

    const reset = (await accountPage.actions.resetPassword!(
      event(admin, `/admin/accounts/${higa.id}`, { form: {} }),
    )) as {
      temporaryPassword: string;
    };
    expect(reset.temporaryPassword).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);

    const self = await accountPage.actions.deactivate!(event(admin, `/admin/accounts/${admin.id}`, { form: {} }));
    expect(self).toMatchObject({ status: 409, data: { form: 'deactivate', conflict: true } });
    const other = await accountPage.actions.deactivate!(event(admin, `/admin/accounts/${higa.id}`, { form: {} }));
    expect(other).toMatchObject({ form: 'deactivated', endedSessions: 0, cancelledSessions: 0 });
    const ownRoles = await accountPage.actions.update!(
      event(admin, `/admin/accounts/${admin.id}`, {
        form: { displayName: '小林', siteId: 'aoshima', roles: ['coordinator'] },
      }),
    );
    expect(ownRoles).toMatchObject({ status: 409, data: { form: 'update', conflict: true } });
    expect(await outcome(() => accountPage.load(event(admin, '/admin/accounts/not-an-id')))).toEqual({ status: 404 });
  });

  it('shows the audit trail with actor names, and field issues for a bad filter', async () => {
    const shown = (await auditPage.load(event(admin, '/admin/audit?action=account.&outcome=success'))) as {
      entries: { action: string; actorName: string | null }[];
      issues: unknown[];
      query: string;
    };
    expect(shown.issues).toEqual([]);
    expect(shown.entries.map((entry) => entry.action)).toEqual([
      'account.deactivated',
      'account.password-reset',
      'account.created',
    ]);
    expect(shown.entries[0]?.actorName).toBe('小林');
    expect(shown.query).toBe('action=account.&outcome=success');
    const refused = (await auditPage.load(event(admin, '/admin/audit?from=2026-13-01T00:00&to=x'))) as {
      issues: { field: string }[];
      values: Record<string, string>;
    };
    expect(refused.issues.map((issue) => issue.field)).toEqual(['from', 'to']);
    expect(refused.values.from).toBe('2026-13-01T00:00');
  });
});
