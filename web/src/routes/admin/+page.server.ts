import { mayManageAccounts, mayManageSites, mayReadAudit, type Account } from '@telemed/domain';
import { adminActor } from '#lib/server/admin/admin-actor.ts';
import type { PageServerLoad } from './$types';

const mayAdminister = (account: Account) =>
  mayManageSites(account) || mayManageAccounts(account) || mayReadAudit(account);

export const load: PageServerLoad = async (event) => {
  const { account } = await adminActor(event, mayAdminister);
  return {
    may: { sites: mayManageSites(account), accounts: mayManageAccounts(account), audit: mayReadAudit(account) },
  };
};
