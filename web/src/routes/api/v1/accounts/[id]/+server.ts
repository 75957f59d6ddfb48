import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { apiAccount } from '#lib/server/api/api-auth.ts';
import { apiRoute, readJsonBody } from '#lib/server/api/api-response.ts';
import { updateAccount, viewAccount } from '#lib/server/admin/account-administration.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const account = await apiAccount(event);
    return json(await viewAccount({ account, ip: event.getClientAddress() }, event.params.id));
  });

export const PATCH: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const account = await apiAccount(event);
    const input = await readJsonBody(event.request, z.unknown());
    return json(await updateAccount({ account, ip: event.getClientAddress() }, event.params.id, input));
  });
