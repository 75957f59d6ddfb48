import { error } from '@sveltejs/kit';
import { sessionIdSchema } from '@telemed/contract';
import { mayViewSession } from '@telemed/domain';
import { calendarResponse } from '#lib/calendar/calendar-file.server.ts';
import { webDomain } from '#lib/server/domain.ts';
import type { RequestHandler } from './$types';

/** One session as an `.ics` file, for those who may see it. */
export const GET: RequestHandler = async ({ locals, params, url, getClientAddress }) => {
  const signedIn = locals.account;
  if (!signedIn) error(401, 'sign in first', { code: 'unauthenticated' });
  const { accounts, sessions, audit } = await webDomain();
  const id = sessionIdSchema.safeParse(params.id);
  const [account, session] = await Promise.all([accounts.get(signedIn.id), id.success ? sessions.get(id.data) : null]);
  const host = session ? await accounts.get(session.hostAccountId) : null;
  const entry = {
    actorAccountId: signedIn.id,
    ...(id.success ? { target: `session:${id.data}`, sessionId: id.data } : {}),
    siteId: signedIn.siteId,
    ip: getClientAddress(),
  };
  if (!account || !session || !mayViewSession(account, session, host?.siteId ?? null)) {
    await audit.record({ ...entry, action: 'calendar.exported', outcome: 'denied' });
    // One answer for "no such session" and "not yours to see", so ids cannot be probed.
    error(403, 'forbidden', { code: 'forbidden' });
  }
  await audit.record({ ...entry, action: 'calendar.exported', detail: { sequence: session.sequence } });
  return calendarResponse([session], {
    origin: url.origin,
    filename: `session-${session.id}.ics`,
    attachment: true,
  });
};
