import { error, fail, redirect } from '@sveltejs/kit';
import QRCode from 'qrcode';
import { issue, mustUseSecondFactor, totpCodeSchema, totpUri, type Account, type AuditOutcome } from '@telemed/domain';
import { webConfig } from '#lib/server/config.ts';
import { auditAs } from '#lib/server/actor.ts';
import { webDomain } from '#lib/server/domain.ts';
import { requireAccount, safeReturnPath } from '#lib/server/guards.ts';
import { confirmCurrentPassword } from '#lib/server/signin-flow.ts';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

/**
 * The account's TOTP second factor: set it up (scan, then confirm with a code, so a half-done
 * setup never locks anyone out) or turn it off (with the current password, and never where
 * the account's roles require it).
 */

async function ownAccount(event: Pick<RequestEvent, 'locals' | 'url'>): Promise<Account> {
  const signedIn = requireAccount(event.locals, event.url);
  const account = await (await webDomain()).accounts.get(signedIn.id);
  if (!account?.active) error(403, { message: 'account unavailable', code: 'forbidden' });
  return account;
}

const required = (account: Account) => mustUseSecondFactor(account, webConfig().TOTP_REQUIRED_FOR_PRIVILEGED);

export const load: PageServerLoad = async (event) => {
  const account = await ownAccount(event);
  // The page shows a secret while enrolling: never kept by a cache.
  event.setHeaders({ 'cache-control': 'no-store' });
  const next = event.url.searchParams.get('next');
  const base = {
    required: required(account),
    mustEnrol: event.locals.account?.obligation === 'enrol-totp',
    /** Kept on the forms' action URLs, so setting up returns to where the account was going. */
    nextQuery: next ? `&next=${encodeURIComponent(safeReturnPath(next, '/sessions'))}` : '',
  };
  if (account.totp) return { ...base, enabled: true, enrolment: null };

  const secret = await (await webDomain()).totpEnrolments.pendingSecret(account.id);
  const svg = await QRCode.toString(totpUri(secret, account.username), {
    type: 'svg',
    errorCorrectionLevel: 'M',
    margin: 2,
  });
  return {
    ...base,
    enabled: false,
    enrolment: {
      // An <img> of the server-made SVG: no markup from a library injected into the page.
      qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
      secret: secret.replace(/(.{4})(?=.)/g, '$1 '),
    },
  };
};

function audit(account: Account, action: string, outcome: AuditOutcome, ip: string, detail?: Record<string, unknown>) {
  return auditAs({ account, ip }, { action, target: `account:${account.id}`, outcome, ...(detail ? { detail } : {}) });
}

export const actions: Actions = {
  enable: async (event) => {
    const account = await ownAccount(event);
    const ip = event.getClientAddress();
    const form = await event.request.formData();
    const code = totpCodeSchema.safeParse(form.get('code'));
    if (!code.success)
      return fail(400, { action: 'enable' as const, issues: [issue('code', 'invalid_format', 'six digits')] });
    const { accounts, totpEnrolments, totpVerifier } = await webDomain();
    if (account.totp) return { action: 'enable' as const, enabled: true };
    const secret = await totpEnrolments.peek(account.id);
    if (!secret) return fail(400, { action: 'enable' as const, error: 'enrolmentExpired' as const });
    if (!(await totpVerifier.verify(account.id, secret, code.data))) {
      await audit(account, 'account.totp-enabled', 'failure', ip, { reason: 'wrong-code' });
      return fail(400, { action: 'enable' as const, issues: [issue('code', 'invalid_value', 'wrong code')] });
    }
    await accounts.enableTotp(account.id, secret);
    await totpEnrolments.discard(account.id);
    await audit(account, 'account.totp-enabled', 'success', ip);
    if (event.locals.account?.obligation === 'enrol-totp') {
      redirect(303, safeReturnPath(event.url.searchParams.get('next'), '/sessions'));
    }
    return { action: 'enable' as const, enabled: true };
  },

  disable: async (event) => {
    const account = await ownAccount(event);
    const ip = event.getClientAddress();
    if (!account.totp) return { action: 'disable' as const, disabled: true };
    if (required(account)) {
      await audit(account, 'account.totp-disabled', 'denied', ip, { reason: 'required-for-role' });
      return fail(403, { action: 'disable' as const, error: 'cannotDisableTotp' as const });
    }
    const form = await event.request.formData();
    const password = form.get('currentPassword');
    if (typeof password !== 'string' || password.length === 0 || password.length > 256) {
      return fail(400, { action: 'disable' as const, issues: [issue('currentPassword', 'required', 'required')] });
    }
    const check = await confirmCurrentPassword(account, password, ip);
    if (check.kind !== 'confirmed') {
      await audit(account, 'account.totp-disabled', check.kind === 'wrong' ? 'failure' : 'denied', ip, {
        reason: check.kind,
      });
      if (check.kind === 'wrong') {
        return fail(400, {
          action: 'disable' as const,
          issues: [issue('currentPassword', 'invalid_value', 'wrong password')],
        });
      }
      return fail(429, {
        action: 'disable' as const,
        ...(check.kind === 'locked'
          ? { lockedUntil: check.until.toISOString() }
          : { retryAfterSeconds: check.retryAfterSeconds }),
      });
    }
    const { accounts } = await webDomain();
    await accounts.disableTotp(account.id);
    await audit(account, 'account.totp-disabled', 'success', ip);
    return { action: 'disable' as const, disabled: true };
  },
};
