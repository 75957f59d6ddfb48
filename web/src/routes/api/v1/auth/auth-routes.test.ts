import type { RequestEvent } from '@sveltejs/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTotpSecret, totpCode } from '@telemed/domain';
import { startTestRedis, type PrivateRedis } from '../../../../../../stack/private-redis.ts';
import { webDomain } from '#lib/server/domain.ts';
import { openApiDocument } from '#lib/server/api/openapi.ts';
import { POST as revoke } from './revoke/+server.ts';
import { POST as token } from './token/+server.ts';

/** The token routes as an integrating system calls them, against a real Redis. */
describe('POST /api/v1/auth/token and /revoke', () => {
  let server: PrivateRedis;
  let address = 0;

  beforeAll(async () => {
    server = await startTestRedis();
    process.env.REDIS_URL = server.url;
    process.env.AUTH_SECRET = 'a-test-secret-that-is-long-enough-for-the-config';
    process.env.TOTP_REQUIRED_FOR_PRIVILEGED = 'false';
  });
  afterAll(async () => {
    await (await webDomain()).redis.close();
    await server?.stop();
  });

  /** Calls a route handler with the little of a RequestEvent these routes use. */
  function call(
    handler: (event: never) => Response | Promise<Response>,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    address += 1;
    const request = new Request('http://localhost/api/v1/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const event = {
      request,
      url: new URL(request.url),
      locals: { account: null, language: 'ja' },
      getClientAddress: () => `203.0.113.${address}`,
    } as unknown as RequestEvent;
    return Promise.resolve(handler(event as never));
  }

  async function account(username: string, options: { totp?: boolean; mustChangePassword?: boolean } = {}) {
    const { accounts, redis } = await webDomain();
    let created = (await accounts.create({
      username,
      password: `${username}-password`,
      displayName: '連携 システム',
      siteId: 'aoshima',
      roles: ['site-doctor'],
    }))!;
    const secret = generateTotpSecret();
    if (options.totp) created = (await accounts.enableTotp(created.id, secret))!;
    if (options.mustChangePassword) {
      await redis.set(`account:${created.id}`, JSON.stringify({ ...created, mustChangePassword: true }));
    }
    return { created, secret, password: `${username}-password` };
  }

  it('answers a token that works as a bearer sign-in until revoked', async () => {
    const { created, password } = await account('his-link');
    const response = await call(token, { username: 'his-link', password });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = await response.json();
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now() + 11 * 3600_000);
    const { signins } = await webDomain();
    expect(await signins.accountId(body.token)).toBe(created.id);

    expect((await call(revoke, '', { authorization: `Bearer ${body.token}` })).status).toBe(204);
    expect(await signins.accountId(body.token)).toBeNull();
    const again = await call(revoke, '', { authorization: `Bearer ${body.token}` });
    expect(again.status).toBe(401);
    expect((await again.json()).error.code).toBe('unauthenticated');
  });

  it('refuses bad bodies with field issues, and wrong credentials with 401', async () => {
    const invalid = await call(token, { username: '', totpCode: '12' });
    expect(invalid.status).toBe(400);
    const fields = (await invalid.json()).error.fields.map((found: { field: string }) => found.field);
    expect(fields).toEqual(expect.arrayContaining(['username', 'password', 'totpCode']));
    expect((await call(token, 'not json')).status).toBe(400);

    const wrong = await call(token, { username: 'nobody', password: 'guess' });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error.code).toBe('unauthenticated');
  });

  it('needs the code of an account with a second factor', async () => {
    const { secret, password } = await account('ris-link', { totp: true });
    const missing = await call(token, { username: 'ris-link', password });
    expect(missing.status).toBe(401);
    expect((await missing.json()).error.fields[0].field).toBe('totpCode');
    expect((await call(token, { username: 'ris-link', password, totpCode: totpCode(secret) })).status).toBe(200);
  });

  it('answers 429 with Retry-After once the username is locked', async () => {
    const { password } = await account('pacs-link');
    for (let failure = 0; failure < 5; failure++) await call(token, { username: 'pacs-link', password: 'guess' });
    const locked = await call(token, { username: 'pacs-link', password });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
    expect((await locked.json()).error.code).toBe('rate_limited');
  });

  it('gives no token to an account that must first change its password', async () => {
    const { password } = await account('reset-link', { mustChangePassword: true });
    const refused = await call(token, { username: 'reset-link', password });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.message).toContain('password must be changed');
  });

  it('is described in the OpenAPI document', () => {
    const document = openApiDocument('http://localhost:3000');
    expect(Object.keys(document.paths ?? {})).toEqual(
      expect.arrayContaining(['/api/v1/auth/token', '/api/v1/auth/revoke']),
    );
    expect(document.paths?.['/api/v1/auth/token']?.post?.responses?.['429']).toBeDefined();
  });
});
