import { z } from 'zod';
import { roles, type Account } from '@telemed/domain';

/**
 * What pages and the REST API show of an account: never the password hash or the second
 * factor's secret. Coordinators see the directory fields only (to invite people); admins also
 * see the account's state.
 */
export const accountViewSchema = z
  .object({
    id: z.uuid(),
    username: z.string().meta({ description: 'The sign-in ID; never changes' }),
    displayName: z.string(),
    siteId: z.string(),
    roles: z.array(z.enum(roles)),
    active: z.boolean(),
    mustChangePassword: z
      .boolean()
      .optional()
      .meta({ description: 'Admins only: the password was set by an admin and must be changed at sign-in' }),
    secondFactor: z.boolean().optional().meta({ description: 'Admins only: whether TOTP is enabled' }),
    createdAt: z.iso.datetime().optional().meta({ description: 'Admins only' }),
    updatedAt: z.iso.datetime().optional().meta({ description: 'Admins only' }),
  })
  .meta({ id: 'Account' });
export type AccountView = z.infer<typeof accountViewSchema>;

/** The directory fields (what coordinators see). */
export function directoryView(account: Account): AccountView {
  const { id, username, displayName, siteId, roles: accountRoles, active } = account;
  return { id, username, displayName, siteId, roles: accountRoles, active };
}

/** Everything an admin may see. */
export function adminView(account: Account): AccountView {
  return {
    ...directoryView(account),
    mustChangePassword: account.mustChangePassword,
    secondFactor: account.totp !== null,
    createdAt: account.createdAt,
    ...(account.updatedAt ? { updatedAt: account.updatedAt } : {}),
  };
}
