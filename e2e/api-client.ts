import { pino } from 'pino';
import { AccountStore, SigninStore, SiteStore, type Account, type RedisClient, type Role } from '@telemed/domain';

/**
 * Test-side helpers for the REST API: accounts created straight in Redis, signed in the way the
 * web server signs them in (a sign-in token, usable as the cookie or as a Bearer token).
 */

const quiet = pino({ level: 'silent' });

export interface TestAccount {
  account: Account;
  token: string;
}

export async function ensureSite(redis: RedisClient, id: string, nameJa: string, nameEn: string): Promise<void> {
  await new SiteStore(redis, quiet).create({ id, nameJa, nameEn, kind: 'hospital', region: 'テスト医療圏' });
}

export async function testAccount(
  redis: RedisClient,
  username: string,
  siteId: string,
  roles: Role[],
  displayName = username,
): Promise<TestAccount> {
  const accounts = new AccountStore(redis, quiet);
  const account =
    (await accounts.findByUsername(username)) ??
    (await accounts.create({ username, password: `${username}-password-1`, displayName, siteId, roles }));
  if (!account) throw new Error(`could not create ${username}`);
  const token = await new SigninStore(redis, 3600).open(account.id);
  return { account, token };
}

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** A JSON request to the web server as this account (Bearer token). */
export async function api<T = Record<string, unknown>>(
  webUrl: string,
  who: TestAccount | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiAnswer<T>> {
  const response = await fetch(`${webUrl}${path}`, {
    method,
    headers: {
      ...(who ? { authorization: `Bearer ${who.token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    redirect: 'manual',
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (a page or a calendar)
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

/** A page or file as this account's browser would fetch it (the sign-in cookie). */
export async function page(webUrl: string, who: TestAccount, path: string): Promise<Response> {
  return fetch(`${webUrl}${path}`, { headers: { cookie: `telemed_signin=${who.token}` }, redirect: 'manual' });
}
