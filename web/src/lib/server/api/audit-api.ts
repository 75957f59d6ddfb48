import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { auditOutcomes } from '@telemed/domain';
import { INVALID_INPUT, UNAUTHENTICATED, errorResponses } from './api-response.ts';
import { auditCsvColumns } from '../admin/audit-csv.ts';
import { auditSearchSchema } from '../admin/audit-reading.ts';

/** The audit part of the REST API's OpenAPI description (route: web/src/routes/api/v1/audit). */

export const auditEntrySchema = z
  .object({
    id: z.string().meta({ description: 'Stream id `<milliseconds>-<n>`: unique, in time order' }),
    at: z.iso.datetime().meta({ description: 'When (UTC)' }),
    action: z.string().meta({ description: 'e.g. `signin.failed`, `account.deactivated`, `conference.joined`' }),
    actorAccountId: z.uuid().nullable().meta({ description: 'Null for anonymous attempts' }),
    outcome: z.enum(auditOutcomes),
    target: z.string().optional().meta({ description: '`kind:id`, e.g. `account:<uuid>`, `site:aoshima`' }),
    sessionId: z.uuid().optional(),
    siteId: z.string().optional().meta({ description: 'The actor’s site' }),
    ip: z.string().optional().meta({ description: 'Source address' }),
    detail: z.record(z.string(), z.unknown()).optional().meta({ description: 'What changed; never passwords' }),
  })
  .meta({ id: 'AuditEntry' });

export const auditPageSchema = z
  .object({
    entries: z.array(auditEntrySchema),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `cursor` for older entries; null when there are no more' }),
  })
  .meta({ id: 'AuditPage' });

export const auditApiPaths: ZodOpenApiPathsObject = {
  '/api/v1/audit': {
    get: {
      tags: ['Audit'],
      summary: 'Read or export the audit trail (admins)',
      description:
        'Newest first. Filters combine (all must match). `format=csv` downloads RFC 4180 CSV in UTF-8 with a BOM ' +
        `(columns: ${auditCsvColumns.join(', ')}). The next page's cursor is also in the \`x-next-cursor\` header. ` +
        'A page may hold fewer entries than `limit` (even none) when a rare filter meets a long trail; carry on with ' +
        'the cursor until it is null. The trail is append-only: nothing edits or deletes an entry. Every read is ' +
        'itself audited as `audit.exported`.',
      requestParams: { query: auditSearchSchema },
      responses: {
        '200': {
          description: 'A page of entries',
          content: {
            'application/json': { schema: auditPageSchema },
            'text/csv': { schema: z.string().meta({ description: 'With a header row' }) },
          },
        },
        ...errorResponses({ 400: INVALID_INPUT, 401: UNAUTHENTICATED, 403: 'Not an admin' }),
      },
    },
  },
};
