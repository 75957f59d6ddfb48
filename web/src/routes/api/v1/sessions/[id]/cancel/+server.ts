import { json } from '@sveltejs/kit';
import { apiAccount } from '#lib/server/api/api-auth.ts';
import { apiRoute, readJsonBody } from '#lib/server/api/api-response.ts';
import { sessionCancellationSchema, sessionDetail } from '#lib/server/api/session-api.ts';
import { sessionIdFrom } from '#lib/server/api/session-id.ts';
import { cancelSession } from '#lib/server/session-scheduling.ts';
import type { RequestHandler } from './$types';

export const POST: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const account = await apiAccount(event);
    const { reason } = await readJsonBody(event.request, sessionCancellationSchema);
    const session = await cancelSession(
      { account, ip: event.getClientAddress() },
      sessionIdFrom(event.params.id),
      reason,
    );
    return json(sessionDetail(session));
  });
