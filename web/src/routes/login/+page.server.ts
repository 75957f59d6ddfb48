import { fail, redirect, type Cookies } from '@sveltejs/kit';
import { totpCodeSchema } from '@telemed/domain';
import { webDomain } from '#lib/server/domain.ts';
import { safeReturnPath } from '#lib/server/guards.ts';
import { completeTotp, signInWithPassword, signinCredentialsSchema } from '#lib/server/signin-flow.ts';
import {
  TOTP_CHALLENGE_COOKIE,
  clearTotpChallengeCookie,
  openSignin,
  setTotpChallengeCookie,
} from '#lib/server/signin.ts';
import type { Actions, PageServerLoad } from './$types';

/**
 * Sign-in in one or two steps: username and password, then (for accounts with a second factor)
 * the authenticator's code. One form action; the hidden `step` field says which step is posted,
 * so the `next` query of the page survives both posts.
 */

export const load: PageServerLoad = async ({ locals, url, cookies }) => {
  if (locals.account) redirect(303, safeReturnPath(url.searchParams.get('next'), '/sessions'));
  return { step: (await pendingChallenge(cookies)) ? ('totp' as const) : ('password' as const) };
};

async function pendingChallenge(cookies: Cookies): Promise<string | null> {
  const challenge = cookies.get(TOTP_CHALLENGE_COOKIE);
  if (!challenge) return null;
  if (await (await webDomain()).totpChallenges.get(challenge)) return challenge;
  clearTotpChallengeCookie(cookies);
  return null;
}

type Refusal = { kind: 'locked'; until: Date } | { kind: 'rate-limited'; retryAfterSeconds: number };

function refused(refusal: Refusal, username: string) {
  return refusal.kind === 'locked'
    ? fail(429, { step: 'password' as const, username, error: 'locked' as const, until: refusal.until.toISOString() })
    : fail(429, {
        step: 'password' as const,
        username,
        error: 'rateLimited' as const,
        retryAfterSeconds: refusal.retryAfterSeconds,
      });
}

export const actions: Actions = {
  default: async ({ request, cookies, url, getClientAddress }) => {
    const form = Object.fromEntries(await request.formData());
    const source = { ip: getClientAddress(), channel: 'web' as const };
    const next = safeReturnPath(url.searchParams.get('next'), '/sessions');

    if (form.step === 'cancel') {
      const challenge = cookies.get(TOTP_CHALLENGE_COOKIE);
      if (challenge) await (await webDomain()).totpChallenges.close(challenge);
      clearTotpChallengeCookie(cookies);
      return { step: 'password' as const };
    }

    if (form.step === 'totp') {
      const challenge = cookies.get(TOTP_CHALLENGE_COOKIE);
      if (!challenge) return fail(400, { step: 'password' as const, username: '', error: 'totpExpired' as const });
      const code = totpCodeSchema.safeParse(form.code);
      if (!code.success) return fail(400, { step: 'totp' as const, error: 'totpFormat' as const });
      const outcome = await completeTotp({ challenge, code: code.data, source });
      if (outcome.kind === 'signed-in') {
        clearTotpChallengeCookie(cookies);
        await openSignin(cookies, outcome.account);
        redirect(303, next);
      }
      if (outcome.kind === 'totp-failed') return fail(401, { step: 'totp' as const, error: 'totpFailed' as const });
      if (outcome.kind === 'rate-limited') {
        return fail(429, {
          step: 'totp' as const,
          error: 'rateLimited' as const,
          retryAfterSeconds: outcome.retryAfterSeconds,
        });
      }
      clearTotpChallengeCookie(cookies);
      if (outcome.kind === 'locked') return refused(outcome, '');
      return fail(400, { step: 'password' as const, username: '', error: 'totpExpired' as const });
    }

    const parsed = signinCredentialsSchema.safeParse(form);
    const username = typeof form.username === 'string' ? form.username.slice(0, 64) : '';
    if (!parsed.success) return fail(400, { step: 'password' as const, username, error: 'signInMissing' as const });

    const outcome = await signInWithPassword({ ...parsed.data, source });
    if (outcome.kind === 'signed-in') {
      clearTotpChallengeCookie(cookies);
      await openSignin(cookies, outcome.account);
      redirect(303, next);
    }
    if (outcome.kind === 'totp-required') {
      setTotpChallengeCookie(cookies, outcome.challenge);
      return { step: 'totp' as const };
    }
    if (outcome.kind === 'locked' || outcome.kind === 'rate-limited') return refused(outcome, username);
    return fail(401, { step: 'password' as const, username, error: 'signInFailed' as const });
  },
};
