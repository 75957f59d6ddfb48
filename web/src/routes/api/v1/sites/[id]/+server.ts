import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { apiAccount } from '#lib/server/api/api-auth.ts';
import { apiRoute, readJsonBody } from '#lib/server/api/api-response.ts';
import { siteById, updateSite } from '#lib/server/admin/site-administration.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = (event) =>
  apiRoute(event, async () => {
    await apiAccount(event);
    return json(await siteById(event.params.id));
  });

export const PATCH: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const account = await apiAccount(event);
    const input = await readJsonBody(event.request, z.unknown());
    return json(await updateSite({ account, ip: event.getClientAddress() }, event.params.id, input));
  });
