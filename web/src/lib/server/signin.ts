import type { Cookies } from '@sveltejs/kit';
import type { Account } from '@telemed/domain';
import { webConfig } from './config.ts';
import { webDomain } from './domain.ts';

export const SIGNIN_COOKIE = 'telemed_signin';

/** What pages may know about the signed-in account (never its password hash). */
export interface SignedInAccount {
  id: string;
  username: string;
  displayName: string;
  siteId: string;
  roles: string[];
}

export function signedIn(account: Account): SignedInAccount {
  const { id, username, displayName, siteId, roles } = account;
  return { id, username, displayName, siteId, roles };
}

/** The active account behind the request's sign-in cookie, or null. */
export async function accountFromCookie(cookies: Cookies): Promise<SignedInAccount | null> {
  const token = cookies.get(SIGNIN_COOKIE);
  if (!token) return null;
  const { signins, accounts } = await webDomain();
  const accountId = await signins.accountId(token);
  const account = accountId ? await accounts.get(accountId) : null;
  return account?.active ? signedIn(account) : null;
}

export async function openSignin(cookies: Cookies, account: Account): Promise<void> {
  const { signins } = await webDomain();
  const config = webConfig();
  cookies.set(SIGNIN_COOKIE, await signins.open(account.id), {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: config.COOKIE_SECURE,
    maxAge: config.SIGNIN_TTL_HOURS * 3600,
  });
}

export async function closeSignin(cookies: Cookies): Promise<void> {
  const token = cookies.get(SIGNIN_COOKIE);
  if (token) await (await webDomain()).signins.close(token);
  cookies.delete(SIGNIN_COOKIE, { path: '/' });
}
