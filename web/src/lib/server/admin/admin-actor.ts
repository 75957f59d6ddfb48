import { error, type RequestEvent } from '@sveltejs/kit';
import type { Account } from '@telemed/domain';
import { webDomain } from '../domain.ts';
import { requireAccount } from '../guards.ts';
import { auditAs, type Actor } from '../actor.ts';

/** Who is doing an administrative action, and from where (for the audit trail). */
export type AdminActor = Actor;

/**
 * The signed-in account of an admin page or form, if `permitted` (a rule of access-policy.ts);
 * anyone else gets the 403 page, and the attempt is audited as denied. Form actions call this
 * too: a layout's check does not guard them.
 */
export async function adminActor(
  event: Pick<RequestEvent, 'locals' | 'url' | 'getClientAddress'>,
  permitted: (account: Account) => boolean,
): Promise<AdminActor> {
  const signedIn = requireAccount(event.locals, event.url);
  const { accounts } = await webDomain();
  const account = await accounts.get(signedIn.id);
  const ip = event.getClientAddress();
  if (!account?.active || !permitted(account)) {
    await auditAs(
      { account: signedIn, ip },
      { action: 'admin.denied', outcome: 'denied', detail: { path: event.url.pathname } },
    );
    error(403, 'forbidden', { code: 'forbidden' });
  }
  return { account, ip };
}
