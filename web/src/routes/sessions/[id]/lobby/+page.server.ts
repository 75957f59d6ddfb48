import { error, redirect } from '@sveltejs/kit';
import { sessionIdSchema } from '@telemed/contract';
import { isInvited, sessionPhase } from '@telemed/domain';
import { webDomain } from '#lib/server/domain.ts';
import { requireAccount } from '#lib/server/guards.ts';
import { signalingUrl } from '#lib/server/signaling-url.ts';
import type { PageServerLoad } from './$types';

/**
 * The guest's waiting page. It shows nothing about the session (not even whether it exists):
 * the knock through signaling decides, and is audited there. Invited accounts of a live
 * session have nothing to wait for and go straight to the room.
 */
export const load: PageServerLoad = async ({ locals, params, url }) => {
  const signedIn = requireAccount(locals, url);
  const id = sessionIdSchema.safeParse(params.id);
  if (!id.success) error(403, 'forbidden', { code: 'forbidden' });
  const { accounts, sessions } = await webDomain();
  const [account, session] = await Promise.all([accounts.get(signedIn.id), sessions.get(id.data)]);
  if (account?.active && session && isInvited(account, session) && sessionPhase(session) === 'live') {
    redirect(303, `/sessions/${id.data}`);
  }
  return { sessionId: id.data, signalingUrl: signalingUrl(url) };
};
