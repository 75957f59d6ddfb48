import { ApiFailure, apiRoute } from '#lib/server/api/api-response.ts';
import { webDomain } from '#lib/server/domain.ts';
import type { RequestHandler } from './$types';

/** Ends the request's bearer token (a browser signs out at /logout instead). */
export const POST: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const authorization = event.request.headers.get('authorization');
    const token = authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length).trim() : '';
    const { accounts, audit, signins } = await webDomain();
    const accountId = token ? await signins.accountId(token) : null;
    if (!accountId)
      throw new ApiFailure(
        'unauthenticated',
        'send the token to end as a bearer token',
        {},
        {
          'www-authenticate': 'Bearer',
        },
      );
    await signins.close(token);
    const account = await accounts.get(accountId);
    await audit.record({
      action: 'signout',
      actorAccountId: accountId,
      target: `account:${accountId}`,
      outcome: 'success',
      ...(account ? { siteId: account.siteId } : {}),
      ip: event.getClientAddress(),
      detail: { channel: 'api' },
    });
    return new Response(null, { status: 204 });
  });
