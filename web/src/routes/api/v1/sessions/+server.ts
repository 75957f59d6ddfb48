import { json } from '@sveltejs/kit';
import { maySeeAllSessions } from '@telemed/domain';
import { webDomain } from '#lib/server/domain.ts';
import { apiAccount, requireAllowed } from '#lib/server/api/api-auth.ts';
import { apiRoute, readJsonBody } from '#lib/server/api/api-response.ts';
import { sessionDetail, sessionListQuerySchema, sessionSummary } from '#lib/server/api/session-api.ts';
import { parseInput, sessionDraftSchema } from '@telemed/domain';
import { scheduleSession } from '#lib/server/session-scheduling.ts';
import type { RequestHandler } from './$types';

const DAY_MS = 24 * 3600_000;

export const GET: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const account = await apiAccount(event);
    const query = parseInput(sessionListQuerySchema, Object.fromEntries(event.url.searchParams));
    const from = query.from ? new Date(query.from) : new Date(Date.now() - 30 * DAY_MS);
    const to = query.to ? new Date(query.to) : new Date(Date.now() + 180 * DAY_MS);
    const { sessions } = await webDomain();
    let found = await sessions.listOverlapping(from, to);
    if (query.scope === 'all') requireAllowed(maySeeAllSessions(account), 'only coordinators and admins see all');
    else {
      const mine = new Set((await sessions.listFor(account)).map((session) => session.id));
      found = found.filter((session) => mine.has(session.id));
    }
    return json({ sessions: found.map((session) => sessionSummary(session)) });
  });

export const POST: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const account = await apiAccount(event);
    const draft = await readJsonBody(event.request, sessionDraftSchema);
    const { session, conflicts } = await scheduleSession({ account, ip: event.getClientAddress() }, draft);
    return json({ session: sessionDetail(session), conflicts }, { status: 201 });
  });
