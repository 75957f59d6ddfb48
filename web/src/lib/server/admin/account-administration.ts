import {
  AccountDeactivation,
  mayListAccounts,
  mayManageAccounts,
  roles,
  siteIdSchema,
  type Account,
} from '@telemed/domain';
import { z } from 'zod';
import { ApiFailure } from '../api/api-response.ts';
import { logger, webDomain } from '../domain.ts';
import type { AdminActor } from './admin-actor.ts';
import { auditAdministration, auditedChange } from './admin-audit.ts';
import { adminView, directoryView, type AccountView } from './account-views.ts';

/**
 * What admins do to accounts — create, change, reset passwords, deactivate, activate — with the
 * access check, the store and the audit record in one place, so the admin pages and the REST
 * API cannot differ. Refusals throw ApiFailure (403/404/409) and are audited as denied.
 * Coordinators may read the directory (to invite people); admins see and change everything.
 */

const target = (accountId: string) => `account:${accountId}`;
const accountIdSchema = z.uuid();

/** Which accounts to list; every field optional. */
export const accountListFilterSchema = z.object({
  site: siteIdSchema.optional().meta({ description: 'Only accounts of this site' }),
  role: z.enum(roles).optional().meta({ description: 'Only accounts with this role' }),
  status: z.enum(['active', 'inactive']).optional().meta({ description: 'Only active or only deactivated accounts' }),
});
export type AccountListFilter = z.infer<typeof accountListFilterSchema>;

async function requireAccountManager(actor: AdminActor, action: string, accountId?: string): Promise<void> {
  if (mayManageAccounts(actor.account)) return;
  await auditAdministration(actor, action, accountId ? target(accountId.slice(0, 64)) : undefined, 'denied');
  throw new ApiFailure('forbidden', 'only admins manage accounts');
}

async function requireDirectoryReader(actor: AdminActor, action: string, accountId?: string): Promise<void> {
  if (mayListAccounts(actor.account)) return;
  await auditAdministration(actor, action, accountId ? target(accountId.slice(0, 64)) : undefined, 'denied');
  throw new ApiFailure('forbidden', 'only admins and coordinators see the account directory');
}

const notFound = () => new ApiFailure('not_found', 'no such account');

/** The account with this id, or a 404 (also for an id that cannot be one). */
async function storedAccount(accountId: string): Promise<Account> {
  const account = accountIdSchema.safeParse(accountId).success
    ? await (await webDomain()).accounts.get(accountId)
    : null;
  if (!account) throw notFound();
  return account;
}

/** Admins get the full view, coordinators the directory fields. */
const viewFor = (actor: AdminActor) => (mayManageAccounts(actor.account) ? adminView : directoryView);

export async function listAccounts(actor: AdminActor, filter: AccountListFilter = {}): Promise<AccountView[]> {
  await requireDirectoryReader(actor, 'account.listed');
  const { accounts } = await webDomain();
  return (await accounts.list())
    .filter(
      (account) =>
        (filter.site === undefined || account.siteId === filter.site) &&
        (filter.role === undefined || account.roles.includes(filter.role)) &&
        (filter.status === undefined || account.active === (filter.status === 'active')),
    )
    .map(viewFor(actor));
}

export async function viewAccount(actor: AdminActor, accountId: string): Promise<AccountView> {
  await requireDirectoryReader(actor, 'account.viewed', accountId);
  return viewFor(actor)(await storedAccount(accountId));
}

export async function registerAccount(actor: AdminActor, input: unknown): Promise<AccountView> {
  await requireAccountManager(actor, 'account.created');
  const { accounts } = await webDomain();
  const account = await auditedChange(actor, 'account.created', undefined, () => accounts.register(input));
  await auditAdministration(actor, 'account.created', target(account.id), 'success', {
    username: account.username,
    displayName: account.displayName,
    siteId: account.siteId,
    roles: account.roles,
  });
  return adminView(account);
}

export async function updateAccount(actor: AdminActor, accountId: string, input: unknown): Promise<AccountView> {
  await requireAccountManager(actor, 'account.updated', accountId);
  await storedAccount(accountId);
  const removesOwnAdmin =
    accountId === actor.account.id &&
    typeof input === 'object' &&
    input !== null &&
    'roles' in input &&
    Array.isArray(input.roles) &&
    !input.roles.includes('admin');
  if (removesOwnAdmin) {
    await auditAdministration(actor, 'account.updated', target(accountId), 'denied', { reason: 'own admin role' });
    throw new ApiFailure('conflict', 'you cannot remove your own admin role; ask another admin');
  }
  const { accounts } = await webDomain();
  const updated = await auditedChange(actor, 'account.updated', target(accountId), () =>
    accounts.update(accountId, input),
  );
  if (!updated) throw notFound();
  await auditAdministration(actor, 'account.updated', target(accountId), 'success', { changes: updated.changes });
  return adminView(updated.account);
}

/** A new temporary password for the account, to be shown to the admin once and never stored in clear. */
export async function resetAccountPassword(
  actor: AdminActor,
  accountId: string,
): Promise<{ account: AccountView; temporaryPassword: string }> {
  await requireAccountManager(actor, 'account.password-reset', accountId);
  const { accounts, signins } = await webDomain();
  const reset = await accounts.resetPassword(accountId);
  if (!reset) throw notFound();
  // Whoever knew the old password is signed out everywhere.
  const endedSignins = await signins.closeAllOf(accountId);
  await auditAdministration(actor, 'account.password-reset', target(accountId), 'success', {
    username: reset.account.username,
    endedSignins,
  });
  return { account: adminView(reset.account), temporaryPassword: reset.temporaryPassword };
}

export interface DeactivationReport {
  account: AccountView;
  endedSessionIds: string[];
  cancelledSessionIds: string[];
}

/** Deactivates the account; its sign-ins and calls end at once, the sessions it hosts end or are cancelled. */
export async function deactivateAccount(actor: AdminActor, accountId: string): Promise<DeactivationReport> {
  await requireAccountManager(actor, 'account.deactivated', accountId);
  await storedAccount(accountId);
  if (accountId === actor.account.id) {
    await auditAdministration(actor, 'account.deactivated', target(accountId), 'denied', { reason: 'own account' });
    throw new ApiFailure('conflict', 'you cannot deactivate your own account; ask another admin');
  }
  const { redis, signins } = await webDomain();
  const outcome = await new AccountDeactivation(redis, logger).deactivate(accountId, {
    accountId: actor.account.id,
    siteId: actor.account.siteId,
    ip: actor.ip,
  });
  if (!outcome) throw notFound();
  const endedSignins = await signins.closeAllOf(accountId);
  await auditAdministration(actor, 'account.deactivated', target(accountId), 'success', {
    username: outcome.account.username,
    endedSignins,
    alreadyInactive: !outcome.changed,
    endedSessionIds: outcome.endedSessionIds,
    cancelledSessionIds: outcome.cancelledSessionIds,
  });
  return {
    account: adminView(outcome.account),
    endedSessionIds: outcome.endedSessionIds,
    cancelledSessionIds: outcome.cancelledSessionIds,
  };
}

export async function activateAccount(actor: AdminActor, accountId: string): Promise<AccountView> {
  await requireAccountManager(actor, 'account.activated', accountId);
  const { accounts } = await webDomain();
  const result = await accounts.setActive(accountId, true);
  if (!result) throw notFound();
  await auditAdministration(actor, 'account.activated', target(accountId), 'success', {
    username: result.account.username,
    alreadyActive: !result.changed,
  });
  return adminView(result.account);
}
