import { redirect } from '@sveltejs/kit';
import { mayManageAccounts } from '@telemed/domain';
import { accountListFilterSchema, listAccounts, registerAccount } from '#lib/server/admin/account-administration.ts';
import { adminActor } from '#lib/server/admin/admin-actor.ts';
import { accountFormValues, accountPassword, adminFormFailure } from '#lib/server/admin/admin-forms.ts';
import { searchParamsObject } from '#lib/server/admin/audit-reading.ts';
import { listSites } from '#lib/server/admin/site-administration.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const actor = await adminActor(event, mayManageAccounts);
  // A filter that does not parse (a hand-edited URL) shows everything rather than an error.
  const parsed = accountListFilterSchema.safeParse(searchParamsObject(event.url));
  const filter = parsed.success ? parsed.data : {};
  const [accounts, sites] = await Promise.all([listAccounts(actor, filter), listSites()]);
  return {
    accounts,
    sites: sites.map(({ id, nameJa, nameEn }) => ({ id, nameJa, nameEn })),
    filter,
  };
};

export const actions: Actions = {
  create: async (event) => {
    const actor = await adminActor(event, mayManageAccounts);
    const form = await event.request.formData();
    const values = accountFormValues(form);
    let accountId: string;
    try {
      accountId = (await registerAccount(actor, { ...values, password: accountPassword(form) })).id;
    } catch (caught) {
      return adminFormFailure(caught, 'create', values);
    }
    redirect(303, `/admin/accounts/${accountId}?created=1`);
  },
};
