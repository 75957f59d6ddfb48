import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore, SigninStore, SiteStore, connectRedis, type RedisClient } from '@telemed/domain';
import { startTestRedis, type PrivateRedis } from '../../../../../stack/private-redis.ts';
import * as accountRoute from '../../../routes/api/v1/accounts/[id]/+server.ts';
import * as accountsRoute from '../../../routes/api/v1/accounts/+server.ts';
import * as passwordResetRoute from '../../../routes/api/v1/accounts/[id]/password-reset/+server.ts';
import * as auditRoute from '../../../routes/api/v1/audit/+server.ts';
import * as siteRoute from '../../../routes/api/v1/sites/[id]/+server.ts';
import * as sitesRoute from '../../../routes/api/v1/sites/+server.ts';
import { webDomain } from '../domain.ts';

type Handler = (event: never) => Promise<Response> | Response;

/** The REST routes for sites, accounts and the audit trail, called as SvelteKit calls them. */
describe('admin REST API on a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTestRedis();
    process.env.REDIS_URL = server.url;
    process.env.AUTH_SECRET ??= 'admin-api-test-secret-0123456789abcdef';
    redis = await connectRedis(server.url, () => undefined);
    const quiet = pino({ level: 'silent' });
    await new SiteStore(redis, quiet).create({
      id: 'aoshima',
      nameJa: '青島町立病院',
      nameEn: 'Aoshima',
      kind: 'hospital',
    });
    const accounts = new AccountStore(redis, quiet);
    const signins = new SigninStore(redis, 3600);
    for (const [username, role] of [
      ['kobayashi', 'admin'],
      ['tanaka', 'coordinator'],
      ['sato', 'site-doctor'],
    ] as const) {
      const account = (await accounts.create({
        username,
        password: `${username}-password`,
        displayName: username,
        siteId: 'aoshima',
        roles: [role],
      }))!;
      ids[username] = account.id;
      tokens[username] = await signins.open(account.id);
    }
  });
  afterAll(async () => {
    await (await webDomain()).redis.close();
    await redis?.close();
    await server?.stop();
  });

  async function call(
    handler: Handler | undefined,
    options: { as?: string; method?: string; path: string; params?: Record<string, string>; body?: unknown },
  ): Promise<Response> {
    const url = new URL(options.path, 'http://telemed.test');
    const headers = new Headers({ 'content-type': 'application/json' });
    if (options.as) headers.set('authorization', `Bearer ${tokens[options.as]}`);
    const request = new Request(url, {
      method: options.method ?? 'GET',
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const event = {
      request,
      url,
      params: options.params ?? {},
      locals: { account: null, language: 'ja' },
      getClientAddress: () => '198.51.100.7',
    };
    return handler!(event as never);
  }

  it('refuses a caller without a sign-in with 401 and the typed error body', async () => {
    const response = await call(sitesRoute.GET, { path: '/api/v1/sites' });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'unauthenticated' } });
  });

  it('lets any account read sites and only admins write them, with field-level 400s', async () => {
    expect((await (await call(sitesRoute.GET, { as: 'sato', path: '/api/v1/sites' })).json()).sites).toHaveLength(1);
    const site = { id: 'kuroshio', nameJa: '黒潮島診療所', nameEn: 'Kuroshio Island Clinic', kind: 'clinic' };
    const denied = await call(sitesRoute.POST, { as: 'sato', method: 'POST', path: '/api/v1/sites', body: site });
    expect(denied.status).toBe(403);
    const created = await call(sitesRoute.POST, { as: 'kobayashi', method: 'POST', path: '/api/v1/sites', body: site });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/sites/kuroshio');
    const invalid = await call(siteRoute.PATCH, {
      as: 'kobayashi',
      method: 'PATCH',
      path: '/api/v1/sites/kuroshio',
      params: { id: 'kuroshio' },
      body: { nameEn: 'x'.repeat(101), kind: 'castle' },
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({
      error: {
        code: 'invalid_input',
        message: 'the input is not valid',
        fields: [
          expect.objectContaining({ field: 'nameEn', code: 'too_long', limit: 100 }),
          expect.objectContaining({ field: 'kind', code: 'invalid_value' }),
        ],
      },
    });
    const stored = await call(siteRoute.GET, {
      as: 'sato',
      path: '/api/v1/sites/kuroshio',
      params: { id: 'kuroshio' },
    });
    expect(await stored.json()).toMatchObject({ nameEn: 'Kuroshio Island Clinic', kind: 'clinic' });
    const notJson = new Request('http://telemed.test/api/v1/sites', {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.kobayashi}` },
      body: '{not json',
    });
    const answer = await sitesRoute.POST({
      request: notJson,
      url: new URL(notJson.url),
      params: {},
      locals: { account: null, language: 'ja' },
      getClientAddress: () => '198.51.100.7',
    } as never);
    expect(answer.status).toBe(400);
  });

  it('lets coordinators list accounts read-only and admins create and reset them', async () => {
    const listed = await call(accountsRoute.GET, { as: 'tanaka', path: '/api/v1/accounts?role=site-doctor' });
    expect((await listed.json()).accounts).toEqual([
      { id: ids.sato, username: 'sato', displayName: 'sato', siteId: 'aoshima', roles: ['site-doctor'], active: true },
    ]);
    const badFilter = await call(accountsRoute.GET, { as: 'tanaka', path: '/api/v1/accounts?role=janitor' });
    expect(badFilter.status).toBe(400);
    const patch = await call(accountRoute.PATCH, {
      as: 'tanaka',
      method: 'PATCH',
      path: `/api/v1/accounts/${ids.sato}`,
      params: { id: ids.sato! },
      body: { roles: ['admin'] },
    });
    expect(patch.status).toBe(403);
    const created = await call(accountsRoute.POST, {
      as: 'kobayashi',
      method: 'POST',
      path: '/api/v1/accounts',
      body: { username: 'higa', displayName: '比嘉', siteId: 'kuroshio', roles: ['observer'], password: 'higa' },
    });
    expect(created.status).toBe(400);
    expect((await created.json()).error.fields).toEqual([
      expect.objectContaining({ field: 'password', code: 'too_short' }),
    ]);
    const reset = await call(passwordResetRoute.POST, {
      as: 'kobayashi',
      method: 'POST',
      path: `/api/v1/accounts/${ids.sato}/password-reset`,
      params: { id: ids.sato! },
    });
    expect(reset.headers.get('cache-control')).toBe('no-store');
    expect((await reset.json()).temporaryPassword).toMatch(/^[a-z2-9-]{14}$/);
  });

  it('exports the audit trail as CSV with a BOM and as JSON pages, for admins only', async () => {
    const csv = await call(auditRoute.GET, { as: 'kobayashi', path: '/api/v1/audit?action=site.&format=csv' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-\d{8}T\d{6}Z\.csv"$/);
    const bytes = new Uint8Array(await csv.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder().decode(bytes);
    expect(text.split('\r\n')[0]).toMatch(/^"id","at_utc","at_jst","action"/);
    expect(text).toContain('"site.created","success"');

    const json = await call(auditRoute.GET, { as: 'kobayashi', path: '/api/v1/audit?limit=2&site=' });
    const page = await json.json();
    expect(page.entries).toHaveLength(2);
    expect(page.entries[0].action).toBe('audit.exported');
    expect(json.headers.get('x-next-cursor')).toBe(page.nextCursor);

    const invalid = await call(auditRoute.GET, { as: 'kobayashi', path: '/api/v1/audit?from=yesterday&limit=0' });
    expect((await invalid.json()).error.fields.map((field: { field: string }) => field.field)).toEqual([
      'from',
      'limit',
    ]);
    expect((await call(auditRoute.GET, { as: 'tanaka', path: '/api/v1/audit' })).status).toBe(403);
  });
});
