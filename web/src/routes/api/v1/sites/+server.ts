import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { apiAccount } from '#lib/server/api/api-auth.ts';
import { apiRoute, readJsonBody } from '#lib/server/api/api-response.ts';
import { listSites, registerSite } from '#lib/server/admin/site-administration.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = (event) =>
  apiRoute(event, async () => {
    await apiAccount(event);
    return json({ sites: await listSites() });
  });

export const POST: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const account = await apiAccount(event);
    const input = await readJsonBody(event.request, z.unknown());
    const site = await registerSite({ account, ip: event.getClientAddress() }, input);
    return json(site, { status: 201, headers: { location: `/api/v1/sites/${site.id}` } });
  });
