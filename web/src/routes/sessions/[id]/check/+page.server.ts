import { error } from '@sveltejs/kit';
import { sessionIdSchema } from '@telemed/contract';
import { isInvited } from '@telemed/domain';
import { webDomain } from '#lib/server/domain.ts';
import { requireAccount } from '#lib/server/guards.ts';
import { signalingUrl } from '#lib/server/signaling-url.ts';
import type { PageServerLoad } from './$types';

/**
 * The pre-call check before a session's room, at any time before or during it. Invited accounts
 * see which session it is; anyone else gets the same check without its title (ids are not to be
 * probed) and the room decides at the door.
 */
export const load: PageServerLoad = async ({ locals, params, url }) => {
  const signedIn = requireAccount(locals, url);
  const id = sessionIdSchema.safeParse(params.id);
  if (!id.success) error(403, 'forbidden', { code: 'forbidden' });
  const { accounts, sessions } = await webDomain();
  const [account, session] = await Promise.all([accounts.get(signedIn.id), sessions.get(id.data)]);
  const known = account?.active && session && isInvited(account, session) ? session : null;
  return {
    signalingUrl: signalingUrl(url),
    session: {
      id: id.data,
      title: known?.title ?? null,
      startsAt: known?.startsAt ?? null,
      endsAt: known?.endsAt ?? null,
    },
  };
};
