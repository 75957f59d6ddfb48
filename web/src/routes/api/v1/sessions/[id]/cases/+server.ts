import { json } from '@sveltejs/kit';
import { caseDraftSchema } from '@telemed/domain';
import { apiAccount } from '#lib/server/api/api-auth.ts';
import { apiRoute, readJsonBody } from '#lib/server/api/api-response.ts';
import { sessionDetail } from '#lib/server/api/session-api.ts';
import { sessionIdFrom } from '#lib/server/api/session-id.ts';
import { attachCase } from '#lib/server/session-scheduling.ts';
import type { RequestHandler } from './$types';

export const POST: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const account = await apiAccount(event);
    const draft = await readJsonBody(event.request, caseDraftSchema);
    const { session, sessionCase } = await attachCase(
      { account, ip: event.getClientAddress() },
      sessionIdFrom(event.params.id),
      draft,
    );
    return json({ case: sessionCase, session: sessionDetail(session) }, { status: 201 });
  });
