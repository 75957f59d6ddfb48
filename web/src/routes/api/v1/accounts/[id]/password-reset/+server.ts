import { json } from '@sveltejs/kit';
import { apiAccount } from '#lib/server/api/api-auth.ts';
import { apiRoute } from '#lib/server/api/api-response.ts';
import { resetAccountPassword } from '#lib/server/admin/account-administration.ts';
import type { RequestHandler } from './$types';

/** The temporary password is in this answer only: never stored in clear, never shown again. */
export const POST: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const account = await apiAccount(event);
    const reset = await resetAccountPassword({ account, ip: event.getClientAddress() }, event.params.id);
    return json(reset, { headers: { 'cache-control': 'no-store' } });
  });
