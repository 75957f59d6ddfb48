import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { apiAccount } from '#lib/server/api/api-auth.ts';
import { apiRoute, readJsonBody } from '#lib/server/api/api-response.ts';
import { changeSiteLinkProfile, siteById } from '#lib/server/admin/site-administration.ts';
import type { RequestHandler } from './$types';

/** A site's link profile: anyone signed in reads it; coordinators and admins replace it (audited). */
export const GET: RequestHandler = (event) =>
  apiRoute(event, async () => {
    await apiAccount(event);
    return json((await siteById(event.params.id)).linkProfile);
  });

export const PUT: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const account = await apiAccount(event);
    const input = await readJsonBody(event.request, z.unknown());
    const site = await changeSiteLinkProfile({ account, ip: event.getClientAddress() }, event.params.id, input);
    return json(site.linkProfile);
  });
