import { error, json } from '@sveltejs/kit';
import { mintAccessToken } from '@telemed/contract/access-token';
import { webConfig } from '#lib/server/config.ts';
import type { RequestHandler } from './$types';

/** Seconds a signaling token is valid; the socket fetches a new one for every (re)connection. */
const TOKEN_TTL_SECONDS = 300;

export const GET: RequestHandler = async ({ locals, setHeaders }) => {
  const account = locals.account;
  if (!account) error(401, { message: 'sign in first', code: 'unauthenticated' });
  setHeaders({ 'cache-control': 'no-store' });
  const token = await mintAccessToken(
    { sub: account.id, name: account.displayName, siteId: account.siteId, roles: account.roles },
    { secret: webConfig().AUTH_SECRET, audience: 'signaling', ttlSeconds: TOKEN_TTL_SECONDS },
  );
  return json({ token, expiresIn: TOKEN_TTL_SECONDS });
};
