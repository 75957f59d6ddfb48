import { error, type RequestEvent } from '@sveltejs/kit';
import type { Account, AuditEntry } from '@telemed/domain';
import { webDomain } from './domain.ts';
import { requireAccount } from './guards.ts';

/**
 * Who is acting on a page, form or API route, and from where: what every change needs for its
 * access check and its audit record.
 */
export interface Actor {
  account: Account;
  ip: string;
}

/** The signed-in, active account of a page or form (else the sign-in page or a 403). */
export async function signedInActor(event: Pick<RequestEvent, 'locals' | 'url' | 'getClientAddress'>): Promise<Actor> {
  const signedIn = requireAccount(event.locals, event.url);
  const account = await (await webDomain()).accounts.get(signedIn.id);
  if (!account?.active) error(403, { message: 'forbidden', code: 'forbidden' });
  return { account, ip: event.getClientAddress() };
}

/**
 * One audit record of something the actor did: their account, their site and their address. A
 * signed-in account whose full record is not loaded (a refusal, a sign-out) is enough.
 */
export async function auditAs(
  actor: { account: Pick<Account, 'id' | 'siteId'>; ip: string },
  entry: Pick<AuditEntry, 'action' | 'outcome' | 'target' | 'sessionId' | 'detail'>,
): Promise<void> {
  const { audit } = await webDomain();
  await audit.record({ ...entry, actorAccountId: actor.account.id, siteId: actor.account.siteId, ip: actor.ip });
}
