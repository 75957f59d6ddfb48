import { error } from '@sveltejs/kit';
import { sessionIdSchema } from '@telemed/contract';
import { mayJoin } from '@telemed/domain';
import { webDomain } from '#lib/server/domain.ts';
import { requireAccount } from '#lib/server/guards.ts';
import { signalingUrl } from '#lib/server/signaling-url.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, params, url, getClientAddress }) => {
  const signedIn = requireAccount(locals, url);
  const { accounts, sessions, audit } = await webDomain();
  const id = sessionIdSchema.safeParse(params.id);
  const [account, session] = await Promise.all([accounts.get(signedIn.id), id.success ? sessions.get(id.data) : null]);
  if (!account || !session || !mayJoin(account, session)) {
    await audit.record({
      action: 'conference.denied',
      actorAccountId: signedIn.id,
      ...(id.success ? { sessionId: id.data } : {}),
      siteId: signedIn.siteId,
      ip: getClientAddress(),
      detail: { via: 'room page' },
    });
    // One answer for "no such session" and "not invited", so ids cannot be probed.
    error(403, { message: 'forbidden', code: 'forbidden' });
  }
  return {
    session: { id: session.id, title: session.title, startsAt: session.startsAt, endsAt: session.endsAt },
    signalingUrl: signalingUrl(url),
  };
};
