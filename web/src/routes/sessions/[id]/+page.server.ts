import { error } from '@sveltejs/kit';
import { sessionIdSchema } from '@telemed/contract';
import {
  ROOM_OPENS_BEFORE_MS,
  SessionAdmission,
  isInvited,
  joinRefusal,
  mayAdmit,
  mayProduceMedia,
  sessionPhase,
  type Account,
  type Session,
} from '@telemed/domain';
import { logger, webDomain } from '#lib/server/domain.ts';
import { requireAccount } from '#lib/server/guards.ts';
import { signalingUrl } from '#lib/server/signaling-url.ts';
import type { PageServerLoad } from './$types';

/**
 * The 403 for a refused room. Invited (or admitted) accounts learn when the room opens or that
 * the session is over; everyone else gets one answer whether the session exists or not (ids are
 * not to be probed), with the offer to ask the host through the waiting room.
 */
function refuse(id: string | null, account: Account | null, session: Session | null, admitted: boolean): never {
  if (account && session && (isInvited(account, session) || admitted)) {
    const phase = sessionPhase(session);
    if (phase === 'scheduled' || phase === 'ended' || phase === 'cancelled') {
      error(403, phase === 'scheduled' ? 'the room opens 15 minutes before the start' : `the session is ${phase}`, {
        code: 'not-live',
        schedule: {
          startsAt: session.startsAt,
          endsAt: session.endsAt,
          opensAt: new Date(Date.parse(session.startsAt) - ROOM_OPENS_BEFORE_MS).toISOString(),
          phase,
        },
      });
    }
  }
  error(403, 'forbidden', {
    code: 'forbidden',
    ...(id && account?.active ? { lobbyPath: `/sessions/${id}/lobby` } : {}),
  });
}

export const load: PageServerLoad = async ({ locals, params, url, getClientAddress }) => {
  const signedIn = requireAccount(locals, url);
  const { accounts, sessions, audit, redis } = await webDomain();
  const parsed = sessionIdSchema.safeParse(params.id);
  const id = parsed.success ? parsed.data : null;
  const [account, session] = await Promise.all([accounts.get(signedIn.id), id ? sessions.get(id) : null]);
  const admitted =
    account && session && !isInvited(account, session)
      ? await new SessionAdmission(redis, logger).isAdmitted(session.id, account.id)
      : false;
  const reason = !account ? 'inactive' : !session ? 'unknown-session' : joinRefusal(account, session, { admitted });
  if (!account || !session || reason) {
    await audit.record({
      action: 'conference.denied',
      actorAccountId: signedIn.id,
      outcome: 'denied',
      ...(id ? { target: `session:${id}`, sessionId: id } : {}),
      siteId: signedIn.siteId,
      ip: getClientAddress(),
      detail: { reason, via: 'room page' },
    });
    refuse(id, account, session, admitted);
  }
  return {
    session: { id: session.id, title: session.title, startsAt: session.startsAt, endsAt: session.endsAt },
    signalingUrl: signalingUrl(url),
    mayProduceMedia: mayProduceMedia(account),
    isHost: mayAdmit(account, session),
  };
};
