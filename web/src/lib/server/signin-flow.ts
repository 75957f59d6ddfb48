import { z } from 'zod';
import { verifyPassword, type Account } from '@telemed/domain';
import { webDomain, type WebDomain } from './domain.ts';

/**
 * Signing in, for the sign-in page and the API token alike: the address's attempt budget, the
 * username's lock, the password, then (for accounts that have one) the TOTP code, either in the
 * same request (API) or in a second step through a short-lived challenge (the page). Every
 * outcome is audited. Wrong usernames and wrong passwords are answered alike.
 */

export type SigninFlowStores = Pick<
  WebDomain,
  'accounts' | 'audit' | 'signinGuard' | 'totpVerifier' | 'totpChallenges'
>;

export const signinCredentialsSchema = z.object({
  username: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(256),
});

export type PasswordSignin =
  | { kind: 'signed-in'; account: Account }
  | { kind: 'totp-required'; challenge: string }
  | { kind: 'failed' }
  | { kind: 'totp-failed' }
  | { kind: 'locked'; until: Date }
  | { kind: 'rate-limited'; retryAfterSeconds: number };

export type TotpSignin =
  | { kind: 'signed-in'; account: Account }
  | { kind: 'totp-failed' }
  | { kind: 'expired' }
  | { kind: 'locked'; until: Date }
  | { kind: 'rate-limited'; retryAfterSeconds: number };

/** Where the attempt came from, for the audit record. */
export interface SigninSource {
  ip: string;
  channel: 'web' | 'api';
}

const accountTarget = (account: Account | null) => (account ? { target: `account:${account.id}` } : {});
const siteOf = (account: Account | null) => (account ? { siteId: account.siteId } : {});

/** The address's budget and the username's lock, checked before any password is hashed. */
async function refusal(
  stores: SigninFlowStores,
  username: string,
  { ip, channel }: SigninSource,
  account: () => Promise<Account | null>,
): Promise<Extract<PasswordSignin, { kind: 'locked' | 'rate-limited' }> | null> {
  const admission = await stores.signinGuard.admitAttempt(ip);
  if (!admission.admitted) {
    await stores.audit.record({
      action: 'signin.rate-limited',
      actorAccountId: null,
      outcome: 'denied',
      ip,
      detail: { username: username.toLowerCase(), channel, retryAfterSeconds: admission.retryAfterSeconds },
    });
    return { kind: 'rate-limited', retryAfterSeconds: admission.retryAfterSeconds };
  }
  const until = await stores.signinGuard.lockedUntil(username);
  if (!until) return null;
  const known = await account();
  await stores.audit.record({
    action: 'signin.locked',
    actorAccountId: null,
    outcome: 'denied',
    ...accountTarget(known),
    ...siteOf(known),
    ip,
    detail: { username: username.toLowerCase(), channel, lockedUntil: until.toISOString() },
  });
  return { kind: 'locked', until };
}

async function succeeded(
  stores: SigninFlowStores,
  account: Account,
  { ip, channel }: SigninSource,
): Promise<{ kind: 'signed-in'; account: Account }> {
  await stores.signinGuard.recordSuccess(account.username, ip);
  await stores.audit.record({
    action: 'signin.succeeded',
    actorAccountId: account.id,
    outcome: 'success',
    ...accountTarget(account),
    siteId: account.siteId,
    ip,
    detail: { username: account.username, channel, secondFactor: account.totp ? 'totp' : 'none' },
  });
  return { kind: 'signed-in', account };
}

/** A wrong code for an account whose password was right: counts toward the username's lock. */
async function totpFailed(
  stores: SigninFlowStores,
  account: Account,
  { ip, channel }: SigninSource,
): Promise<{ kind: 'totp-failed' } | { kind: 'locked'; until: Date }> {
  const lockedUntil = await stores.signinGuard.recordFailure(account.username);
  await stores.audit.record({
    action: 'signin.totp-failed',
    actorAccountId: account.id,
    outcome: 'failure',
    ...accountTarget(account),
    siteId: account.siteId,
    ip,
    detail: {
      username: account.username,
      channel,
      ...(lockedUntil ? { lockedUntil: lockedUntil.toISOString() } : {}),
    },
  });
  return lockedUntil ? { kind: 'locked', until: lockedUntil } : { kind: 'totp-failed' };
}

/**
 * First step. `totpCode` given (the API): an account with a second factor is checked at once;
 * left out (the page): such an account gets a challenge for `completeTotp`.
 */
export async function signInWithPassword(
  input: { username: string; password: string; totpCode?: string; source: SigninSource },
  given?: SigninFlowStores,
): Promise<PasswordSignin> {
  const stores = given ?? (await webDomain());
  const { username, password, source } = input;
  const { ip, channel } = source;
  const refused = await refusal(stores, username, source, () => stores.accounts.findByUsername(username));
  if (refused) return refused;

  const account = await stores.accounts.findByUsername(username);
  // A decoy hash when there is no such account, so both cost the same time.
  const passwordMatches = await verifyPassword(password, account?.passwordHash ?? null);
  if (!account || !passwordMatches || !account.active) {
    const lockedUntil = await stores.signinGuard.recordFailure(username);
    await stores.audit.record({
      action: 'signin.failed',
      actorAccountId: null,
      outcome: 'failure',
      ...accountTarget(account),
      ...siteOf(account),
      ip,
      detail: {
        username: username.toLowerCase(),
        channel,
        reason: !account ? 'unknown-username' : !passwordMatches ? 'wrong-password' : 'inactive',
        ...(lockedUntil ? { lockedUntil: lockedUntil.toISOString() } : {}),
      },
    });
    return lockedUntil ? { kind: 'locked', until: lockedUntil } : { kind: 'failed' };
  }

  if (!account.totp) return succeeded(stores, account, source);

  if (input.totpCode !== undefined) {
    const codeMatches = await stores.totpVerifier.verify(account.id, account.totp.secret, input.totpCode);
    return codeMatches ? succeeded(stores, account, source) : totpFailed(stores, account, source);
  }
  // The password was right: the address gets the attempt back (the code will be one more), but
  // the username's failures stay counted until the code is right too.
  await stores.signinGuard.giveBackAttempt(ip);
  await stores.audit.record({
    action: 'signin.totp-required',
    actorAccountId: account.id,
    outcome: 'success',
    ...accountTarget(account),
    siteId: account.siteId,
    ip,
    detail: { username: account.username, channel },
  });
  const challenge = await stores.totpChallenges.open({ accountId: account.id, username: account.username });
  return { kind: 'totp-required', challenge };
}

/** Second step of the page's sign-in: the code for a pending challenge. */
export async function completeTotp(
  input: { challenge: string; code: string; source: SigninSource },
  given?: SigninFlowStores,
): Promise<TotpSignin> {
  const stores = given ?? (await webDomain());
  const pending = await stores.totpChallenges.get(input.challenge);
  if (!pending) return { kind: 'expired' };
  const account = await stores.accounts.get(pending.accountId);
  const refused = await refusal(stores, pending.username, input.source, async () => account);
  if (refused?.kind === 'locked') await stores.totpChallenges.close(input.challenge);
  if (refused) return refused;
  if (!account?.active || !account.totp) {
    await stores.totpChallenges.close(input.challenge);
    return { kind: 'expired' };
  }

  if (await stores.totpVerifier.verify(account.id, account.totp.secret, input.code)) {
    await stores.totpChallenges.close(input.challenge);
    return succeeded(stores, account, input.source);
  }
  const failed = await totpFailed(stores, account, input.source);
  if (failed.kind === 'locked') await stores.totpChallenges.close(input.challenge);
  return failed;
}

export type CurrentPasswordCheck =
  | { kind: 'confirmed' }
  | { kind: 'wrong' }
  | { kind: 'locked'; until: Date }
  | { kind: 'rate-limited'; retryAfterSeconds: number };

/**
 * The signed-in account's own password, asked again before it changes its password or turns
 * off its second factor. Guesses here count like sign-in failures (someone at an unattended,
 * signed-in PC must not get unlimited tries). The caller audits its own action.
 */
export async function confirmCurrentPassword(
  account: Account,
  password: string,
  ip: string,
  given?: Pick<SigninFlowStores, 'signinGuard'>,
): Promise<CurrentPasswordCheck> {
  const stores = given ?? (await webDomain());
  const admission = await stores.signinGuard.admitAttempt(ip);
  if (!admission.admitted) return { kind: 'rate-limited', retryAfterSeconds: admission.retryAfterSeconds };
  const until = await stores.signinGuard.lockedUntil(account.username);
  if (until) return { kind: 'locked', until };
  if (await verifyPassword(password, account.passwordHash)) {
    await stores.signinGuard.giveBackAttempt(ip);
    return { kind: 'confirmed' };
  }
  const lockedUntil = await stores.signinGuard.recordFailure(account.username);
  return lockedUntil ? { kind: 'locked', until: lockedUntil } : { kind: 'wrong' };
}
