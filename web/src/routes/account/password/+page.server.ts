import { error, fail, redirect } from '@sveltejs/kit';
import { InputError, PASSWORD_MIN_LENGTH, issue, newPasswordIssues, type FieldIssue } from '@telemed/domain';
import { auditAs } from '#lib/server/actor.ts';
import { webDomain } from '#lib/server/domain.ts';
import { requireAccount, safeReturnPath } from '#lib/server/guards.ts';
import { confirmCurrentPassword } from '#lib/server/signin-flow.ts';
import { SIGNIN_COOKIE } from '#lib/server/signin.ts';
import type { Actions, PageServerLoad } from './$types';

/** The signed-in account changes its own password (and must, after an admin's reset). */

export const load: PageServerLoad = ({ locals, url }) => {
  const account = requireAccount(locals, url);
  return { mustChangePassword: account.mustChangePassword, passwordMinLength: PASSWORD_MIN_LENGTH };
};

/** What a refused change answers with: field issues, or why no attempt may be made now. */
interface PasswordChangeRefusal {
  issues: FieldIssue[];
  lockedUntil?: string;
  retryAfterSeconds?: number;
}
const refuse = (status: number, refusal: PasswordChangeRefusal) => fail(status, refusal);

const text = (value: FormDataEntryValue | undefined) => (typeof value === 'string' ? value : '');

export const actions: Actions = {
  default: async ({ request, locals, url, cookies, getClientAddress }) => {
    const signedIn = requireAccount(locals, url);
    const { accounts, signins } = await webDomain();
    const account = await accounts.get(signedIn.id);
    if (!account?.active) error(403, { message: 'account unavailable', code: 'forbidden' });

    const form = Object.fromEntries(await request.formData());
    const currentPassword = text(form.currentPassword);
    const newPassword = text(form.newPassword);
    const issues: FieldIssue[] = [];
    if (!currentPassword) issues.push(issue('currentPassword', 'required', 'required'));
    issues.push(...newPasswordIssues(newPassword, account.username, 'newPassword'));
    if (text(form.confirmPassword) !== newPassword) {
      issues.push(issue('confirmPassword', 'invalid_value', 'does not match the new password'));
    }
    if (issues.length > 0) return refuse(400, { issues });

    const ip = getClientAddress();
    const record = (outcome: 'success' | 'failure' | 'denied', detail?: Record<string, unknown>) =>
      auditAs(
        { account, ip },
        { action: 'account.password-changed', target: `account:${account.id}`, outcome, ...(detail ? { detail } : {}) },
      );

    const check = await confirmCurrentPassword(account, currentPassword, ip);
    if (check.kind === 'rate-limited') {
      await record('denied', { reason: 'rate-limited' });
      return refuse(429, { issues: [], retryAfterSeconds: check.retryAfterSeconds });
    }
    if (check.kind === 'locked') {
      await record('denied', { reason: 'locked', lockedUntil: check.until.toISOString() });
      return refuse(429, { issues: [], lockedUntil: check.until.toISOString() });
    }
    if (check.kind === 'wrong') {
      await record('failure', { reason: 'wrong-current-password' });
      return refuse(400, { issues: [issue('currentPassword', 'invalid_value', 'wrong password')] });
    }

    try {
      await accounts.changePassword(account.id, newPassword);
    } catch (failure) {
      if (failure instanceof InputError) return refuse(400, { issues: failure.issues });
      throw failure;
    }
    // Other browsers and API tokens signed in with the old password are signed out; this one stays.
    const endedSignins = await signins.closeAllOf(account.id, cookies.get(SIGNIN_COOKIE));
    await record('success', { endedSignins, ...(account.mustChangePassword ? { after: 'reset' } : {}) });
    if (account.mustChangePassword) redirect(303, safeReturnPath(url.searchParams.get('next'), '/sessions'));
    return { changed: true };
  },
};
