import type { RequestEvent } from '@sveltejs/kit';
import type { Account } from '@telemed/domain';
import { webDomain } from '../domain.ts';
import { obligationMessage } from '../signin-obligation.ts';
import { signinObligation } from '../signin.ts';
import { ApiFailure } from './api-response.ts';

/**
 * The account calling the API: a browser's sign-in cookie (already resolved by the hooks), or an
 * `Authorization: Bearer <token>` from `POST /api/v1/auth/token` for other systems. Both are the
 * same kind of sign-in, stored hashed in Redis and ended by sign-out or deactivation.
 */
export async function apiAccount(event: RequestEvent): Promise<Account> {
  const { accounts, signins } = await webDomain();
  let accountId = event.locals.account?.id ?? null;
  const authorization = event.request.headers.get('authorization');
  if (!accountId && authorization?.startsWith('Bearer ')) {
    accountId = await signins.accountId(authorization.slice('Bearer '.length).trim());
  }
  const account = accountId ? await accounts.get(accountId) : null;
  if (!account?.active) {
    throw new ApiFailure('unauthenticated', 'sign in first', {}, { 'www-authenticate': 'Bearer' });
  }
  const obligation = signinObligation(account);
  if (obligation) throw new ApiFailure('forbidden', obligationMessage[obligation]);
  return account;
}

/** Refuses with 403 unless `allowed`. */
export function requireAllowed(allowed: boolean, message = 'not allowed for this account'): void {
  if (!allowed) throw new ApiFailure('forbidden', message);
}
