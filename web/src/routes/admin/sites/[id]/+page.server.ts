import { redirect } from '@sveltejs/kit';
import { mayManageSites } from '@telemed/domain';
import { adminActor } from '#lib/server/admin/admin-actor.ts';
import { adminFormFailure, errorPageFor, siteFormValues, siteInput } from '#lib/server/admin/admin-forms.ts';
import { siteById, updateSite } from '#lib/server/admin/site-administration.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  await adminActor(event, mayManageSites);
  const site = await siteById(event.params.id).catch(errorPageFor);
  return {
    site: { id: site.id, nameJa: site.nameJa },
    values: {
      nameJa: site.nameJa,
      nameEn: site.nameEn,
      kind: site.kind,
      region: site.region,
      'contact.person': site.contact.person,
      'contact.phone': site.contact.phone,
      'contact.email': site.contact.email,
    },
  };
};

export const actions: Actions = {
  default: async (event) => {
    const actor = await adminActor(event, mayManageSites);
    const values = siteFormValues(await event.request.formData());
    try {
      await updateSite(actor, event.params.id, siteInput(values, false));
    } catch (caught) {
      return adminFormFailure(caught, 'update', values);
    }
    redirect(303, `/admin/sites?saved=${encodeURIComponent(event.params.id)}#site-${event.params.id}`);
  },
};
