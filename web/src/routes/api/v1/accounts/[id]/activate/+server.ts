import { json } from '@sveltejs/kit';
import { apiAccount } from '#lib/server/api/api-auth.ts';
import { apiRoute } from '#lib/server/api/api-response.ts';
import { activateAccount } from '#lib/server/admin/account-administration.ts';
import type { RequestHandler } from './$types';

export const POST: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const account = await apiAccount(event);
    return json(await activateAccount({ account, ip: event.getClientAddress() }, event.params.id));
  });
