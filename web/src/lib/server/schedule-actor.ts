import { error, type RequestEvent } from '@sveltejs/kit';
import type { Account } from '@telemed/domain';
import { webDomain } from './domain.ts';
import { requireAccount } from './guards.ts';

/** The signed-in account of a schedule page or form, with the request's address for the audit. */
export async function scheduleActor(event: Pick<RequestEvent, 'locals' | 'url' | 'getClientAddress'>): Promise<{
  account: Account;
  ip: string;
}> {
  const signedIn = requireAccount(event.locals, event.url);
  const account = await (await webDomain()).accounts.get(signedIn.id);
  if (!account?.active) error(403, { message: 'forbidden', code: 'forbidden' });
  return { account, ip: event.getClientAddress() };
}
