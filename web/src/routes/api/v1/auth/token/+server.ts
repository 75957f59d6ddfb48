import { json } from '@sveltejs/kit';
import { issue } from '@telemed/domain';
import { ApiFailure, apiRoute, readJsonBody } from '#lib/server/api/api-response.ts';
import { tokenRequestSchema } from '#lib/server/api/auth-api.ts';
import { webConfig } from '#lib/server/config.ts';
import { webDomain } from '#lib/server/domain.ts';
import { signInWithPassword } from '#lib/server/signin-flow.ts';
import { obligationMessage } from '#lib/server/signin-obligation.ts';
import { signinObligation } from '#lib/server/signin.ts';
import type { RequestHandler } from './$types';

/** A sign-in token for another system (see auth-api.ts). */
export const POST: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const body = await readJsonBody(event.request, tokenRequestSchema);
    const outcome = await signInWithPassword({
      username: body.username,
      password: body.password,
      // An account with a second factor always gets its code checked here, even an empty one.
      totpCode: body.totpCode ?? '',
      source: { ip: event.getClientAddress(), channel: 'api' },
    });
    switch (outcome.kind) {
      case 'signed-in': {
        const obligation = signinObligation(outcome.account);
        if (obligation) throw new ApiFailure('forbidden', obligationMessage[obligation]);
        const { signins } = await webDomain();
        const token = await signins.open(outcome.account.id);
        const expiresAt = new Date(Date.now() + webConfig().SIGNIN_TTL_HOURS * 3600_000).toISOString();
        return json({ token, expiresAt }, { headers: { 'cache-control': 'no-store' } });
      }
      case 'totp-failed':
        throw new ApiFailure(
          'unauthenticated',
          body.totpCode ? 'wrong or already used totpCode' : 'this account needs totpCode',
          body.totpCode ? {} : { fields: [issue('totpCode', 'required', 'this account needs its TOTP code')] },
        );
      case 'locked': {
        const seconds = Math.max(1, Math.ceil((outcome.until.getTime() - Date.now()) / 1000));
        throw new ApiFailure(
          'rate_limited',
          `the username is temporarily locked after repeated failures, until ${outcome.until.toISOString()}`,
          {},
          { 'retry-after': String(seconds) },
        );
      }
      case 'rate-limited':
        throw new ApiFailure(
          'rate_limited',
          'too many sign-in attempts from this address',
          {},
          { 'retry-after': String(outcome.retryAfterSeconds) },
        );
      default:
        throw new ApiFailure('unauthenticated', 'wrong username, password or code');
    }
  });
