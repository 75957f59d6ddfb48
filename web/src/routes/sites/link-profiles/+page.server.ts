import { fail } from '@sveltejs/kit';
import { InputError, mayChangeSiteLinkProfile } from '@telemed/domain';
import { adminActor } from '#lib/server/admin/admin-actor.ts';
import { changeSiteLinkProfile, listSites } from '#lib/server/admin/site-administration.ts';
import { ApiFailure } from '#lib/server/api/api-response.ts';
import type { Actions, PageServerLoad } from './$types';

/**
 * The sites' network links, for coordinators (and admins): each site's link profile, which caps
 * the call's video at that site from the start. Nothing else of a site is changed here.
 */

export const load: PageServerLoad = async (event) => {
  await adminActor(event, mayChangeSiteLinkProfile);
  const sites = await listSites();
  return {
    sites: sites.map(({ id, nameJa, nameEn, linkProfile }) => ({ id, nameJa, nameEn, linkProfile })),
    saved: event.url.searchParams.get('saved'),
  };
};

const kbps = (form: FormData, field: string) => {
  const value = String(form.get(field) ?? '').trim();
  return value === '' ? undefined : Number(value);
};

export const actions: Actions = {
  default: async (event) => {
    const actor = await adminActor(event, mayChangeSiteLinkProfile);
    const form = await event.request.formData();
    const siteId = String(form.get('siteId') ?? '').slice(0, 64);
    const kind = String(form.get('kind') ?? '');
    // The domain's schema judges it (unknown kinds, missing or out-of-range capacities).
    const profile =
      kind === 'custom' ? { kind, upKbps: kbps(form, 'upKbps'), downKbps: kbps(form, 'downKbps') } : { kind };
    try {
      await changeSiteLinkProfile(actor, siteId, profile);
    } catch (caught) {
      if (caught instanceof InputError) return fail(400, { siteId, failed: true });
      if (caught instanceof ApiFailure && caught.code === 'not_found') return fail(404, { siteId, failed: true });
      throw caught;
    }
    return { siteId, failed: false };
  },
};
