import type { Cookies } from '@sveltejs/kit';
import { TOTP_CHALLENGE_TTL_SECONDS, mustUseSecondFactor, type Account } from '@telemed/domain';
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
  mustChangePassword: boolean;
  totpEnabled: boolean;
  /** What the account must do before anything else (see signin-obligation.ts), or null. */
  obligation: SigninObligation | null;
}

export type SigninObligation = 'change-password' | 'enrol-totp';

/** A new password after an admin's reset first, then the second factor where it is required. */
export function signinObligation(account: Account): SigninObligation | null {
  if (account.mustChangePassword) return 'change-password';
  if (!account.totp && mustUseSecondFactor(account, webConfig().TOTP_REQUIRED_FOR_PRIVILEGED)) return 'enrol-totp';
  return null;
}

export function signedIn(account: Account): SignedInAccount {
  const { id, username, displayName, siteId, roles, mustChangePassword } = account;
  return {
    id,
    username,
    displayName,
    siteId,
    roles,
    mustChangePassword,
    totpEnabled: account.totp !== null,
    obligation: signinObligation(account),
  };
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

/** The pending second-factor challenge between the sign-in page's two steps. */
export const TOTP_CHALLENGE_COOKIE = 'telemed_totp_challenge';

export function setTotpChallengeCookie(cookies: Cookies, challenge: string): void {
  cookies.set(TOTP_CHALLENGE_COOKIE, challenge, {
    path: '/login',
    httpOnly: true,
    sameSite: 'strict',
    secure: webConfig().COOKIE_SECURE,
    maxAge: TOTP_CHALLENGE_TTL_SECONDS,
  });
}

export function clearTotpChallengeCookie(cookies: Cookies): void {
  cookies.delete(TOTP_CHALLENGE_COOKIE, { path: '/login' });
}
