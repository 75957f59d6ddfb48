import { json } from '@sveltejs/kit';
import { parseInput } from '@telemed/domain';
import { apiAccount } from '#lib/server/api/api-auth.ts';
import { apiRoute } from '#lib/server/api/api-response.ts';
import { auditCsv } from '#lib/server/admin/audit-csv.ts';
import { actorNames, auditSearchSchema, readAuditTrail, searchParamsObject } from '#lib/server/admin/audit-reading.ts';
import type { RequestHandler } from './$types';

/** The audit trail, newest first, as JSON pages or a CSV download (admins only; the read is audited). */
export const GET: RequestHandler = (event) =>
  apiRoute(event, async () => {
    const account = await apiAccount(event);
    const search = parseInput(auditSearchSchema, searchParamsObject(event.url));
    const page = await readAuditTrail({ account, ip: event.getClientAddress() }, search, 'api');
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    if (page.nextCursor) headers['x-next-cursor'] = page.nextCursor;
    if (search.format === 'json') return json(page, { headers });
    const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
    return new Response(auditCsv(page.entries, await actorNames()), {
      headers: {
        ...headers,
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="audit-${stamp}Z.csv"`,
      },
    });
  });
