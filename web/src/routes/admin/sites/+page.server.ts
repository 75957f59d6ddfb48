import { redirect } from '@sveltejs/kit';
import { mayManageSites } from '@telemed/domain';
import { adminActor } from '#lib/server/admin/admin-actor.ts';
import { adminFormFailure, siteFormValues, siteInput } from '#lib/server/admin/admin-forms.ts';
import { listSites, registerSite } from '#lib/server/admin/site-administration.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  await adminActor(event, mayManageSites);
  const notice = event.url.searchParams.get('created')
    ? 'created'
    : event.url.searchParams.get('saved')
      ? 'saved'
      : null;
  return { sites: await listSites(), notice };
};

export const actions: Actions = {
  create: async (event) => {
    const actor = await adminActor(event, mayManageSites);
    const values = siteFormValues(await event.request.formData());
    let siteId: string;
    try {
      siteId = (await registerSite(actor, siteInput(values, true))).id;
    } catch (caught) {
      return adminFormFailure(caught, 'create', values);
    }
    redirect(303, `/admin/sites?created=${encodeURIComponent(siteId)}#site-${siteId}`);
  },
};
