import { json } from '@sveltejs/kit';
import { sessionPatchSchema } from '@telemed/domain';
import { apiAccount } from '#lib/server/api/api-auth.ts';
import { apiRoute, readJsonBody } from '#lib/server/api/api-response.ts';
import { sessionDetail } from '#lib/server/api/session-api.ts';
import { editSession, viewableSession } from '#lib/server/session-scheduling.ts';
import { sessionIdFrom } from '#lib/server/api/session-id.ts';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const account = await apiAccount(event);
    const session = await viewableSession({ account, ip: event.getClientAddress() }, sessionIdFrom(event.params.id));
    return json(sessionDetail(session));
  });

export const PATCH: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const account = await apiAccount(event);
    const patch = await readJsonBody(event.request, sessionPatchSchema);
    const { session, conflicts } = await editSession(
      { account, ip: event.getClientAddress() },
      sessionIdFrom(event.params.id),
      patch,
    );
    return json({ session: sessionDetail(session), conflicts });
  });
