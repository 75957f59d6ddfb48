import { json } from '@sveltejs/kit';
import { CHAT_MAX_MESSAGES_PER_SESSION } from '@telemed/contract';
import { parseInput } from '@telemed/domain';
import { apiAccount } from '#lib/server/api/api-auth.ts';
import { apiRoute } from '#lib/server/api/api-response.ts';
import { sessionDetail } from '#lib/server/api/session-api.ts';
import { sessionIdFrom } from '#lib/server/api/session-id.ts';
import { chatCsv, exportSessionRecord, sessionRecordQuerySchema } from '#lib/server/session-record.ts';
import type { RequestHandler } from './$types';

/** The session's record (the session, its cases, its chat) as JSON, or its chat as CSV; audited. */
export const GET: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const account = await apiAccount(event);
    const { format } = parseInput(sessionRecordQuerySchema, Object.fromEntries(event.url.searchParams));
    const sessionId = sessionIdFrom(event.params.id);
    const { session, chat } = await exportSessionRecord({ account, ip: event.getClientAddress() }, sessionId, format);
    const headers = { 'cache-control': 'no-store' };
    if (format === 'json') {
      return json(
        {
          exportedAt: new Date().toISOString(),
          session: sessionDetail(session),
          chat: { messages: chat, limit: CHAT_MAX_MESSAGES_PER_SESSION },
        },
        { headers: { ...headers, 'content-disposition': `attachment; filename="session-${sessionId}.json"` } },
      );
    }
    return new Response(chatCsv(chat), {
      headers: {
        ...headers,
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="session-${sessionId}-chat.csv"`,
      },
    });
  });
