import { mayManageAccounts } from '@telemed/domain';
import {
  activateAccount,
  deactivateAccount,
  resetAccountPassword,
  updateAccount,
  viewAccount,
} from '#lib/server/admin/account-administration.ts';
import { adminActor } from '#lib/server/admin/admin-actor.ts';
import { accountFormValues, adminConflict, adminFormFailure, errorPageFor } from '#lib/server/admin/admin-forms.ts';
import { listSites } from '#lib/server/admin/site-administration.ts';
import { webDomain } from '#lib/server/domain.ts';
import type { Actions, PageServerLoad } from './$types';

const confirmations = ['deactivate', 'activate', 'reset'] as const;

export const load: PageServerLoad = async (event) => {
  const actor = await adminActor(event, mayManageAccounts);
  const account = await viewAccount(actor, event.params.id).catch(errorPageFor);
  const { sessions } = await webDomain();
  const [sites, hosted] = await Promise.all([listSites(), sessions.listOpenHostedBy(account.id)]);
  const confirm = confirmations.find((step) => step === event.url.searchParams.get('confirm')) ?? null;
  return {
    account,
    isSelf: account.id === actor.account.id,
    sites: sites.map(({ id, nameJa, nameEn }) => ({ id, nameJa, nameEn })),
    hostedOpenSessions: hosted.map(({ id, title, startsAt, endsAt }) => ({ id, title, startsAt, endsAt })),
    confirm,
    created: event.url.searchParams.has('created'),
  };
};

export const actions: Actions = {
  update: async (event) => {
    const actor = await adminActor(event, mayManageAccounts);
    const values = accountFormValues(await event.request.formData());
    const { displayName, siteId, roles } = values;
    try {
      await updateAccount(actor, event.params.id, { displayName, siteId, roles });
    } catch (caught) {
      return adminFormFailure(caught, 'update', values);
    }
    return { form: 'updated' as const };
  },
  resetPassword: async (event) => {
    const actor = await adminActor(event, mayManageAccounts);
    const { temporaryPassword } = await resetAccountPassword(actor, event.params.id).catch(errorPageFor);
    // Shown in this answer only: it is not stored in clear anywhere.
    return { form: 'reset' as const, temporaryPassword };
  },
  deactivate: async (event) => {
    const actor = await adminActor(event, mayManageAccounts);
    try {
      const report = await deactivateAccount(actor, event.params.id);
      return {
        form: 'deactivated' as const,
        endedSessions: report.endedSessionIds.length,
        cancelledSessions: report.cancelledSessionIds.length,
      };
    } catch (caught) {
      return adminConflict(caught, 'deactivate');
    }
  },
  activate: async (event) => {
    const actor = await adminActor(event, mayManageAccounts);
    await activateAccount(actor, event.params.id).catch(errorPageFor);
    return { form: 'activated' as const };
  },
};
