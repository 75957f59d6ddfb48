import { json } from '@sveltejs/kit';
import { parseInput } from '@telemed/domain';
import { z } from 'zod';
import { apiAccount } from '#lib/server/api/api-auth.ts';
import { apiRoute, readJsonBody } from '#lib/server/api/api-response.ts';
import { accountListFilterSchema, listAccounts, registerAccount } from '#lib/server/admin/account-administration.ts';
import { searchParamsObject } from '#lib/server/admin/audit-reading.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const account = await apiAccount(event);
    const filter = parseInput(accountListFilterSchema, searchParamsObject(event.url));
    return json({ accounts: await listAccounts({ account, ip: event.getClientAddress() }, filter) });
  });

export const POST: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const account = await apiAccount(event);
    const input = await readJsonBody(event.request, z.unknown());
    const created = await registerAccount({ account, ip: event.getClientAddress() }, input);
    return json(created, { status: 201, headers: { location: `/api/v1/accounts/${created.id}` } });
  });
