import { z } from 'zod';
import {
  AUDIT_QUERY_MAX_LIMIT,
  DEFAULT_TIME_ZONE,
  auditActionFilterSchema,
  auditCursorSchema,
  auditOutcomes,
  dateTimeInputSchema,
  mayReadAudit,
  siteIdSchema,
  toUtcInstant,
  type AuditPage,
} from '@telemed/domain';
import { ApiFailure } from '../api/api-response.ts';
import { webDomain } from '../domain.ts';
import type { AdminActor } from './admin-actor.ts';
import { auditAdministration } from './admin-audit.ts';
import type { ActorNames } from './audit-csv.ts';

/**
 * Reading the audit trail (admins only), for the admin page and `GET /api/v1/audit`. Every read
 * is itself audited: `audit.exported` for the API and the export links, `audit.viewed` for the page.
 */

/** The filter as URL query parameters (the API's and the admin page's, so export links keep it). */
export const auditSearchSchema = z.object({
  from: dateTimeInputSchema
    .optional()
    .meta({ description: 'Entries at or after this time; with an offset, or Japan time without one' }),
  to: dateTimeInputSchema.optional().meta({ description: 'Entries before this time (exclusive)' }),
  action: auditActionFilterSchema
    .optional()
    .meta({ description: 'An action (`signin.failed`) or a prefix ending in `.` or `*` (`signin.`)' }),
  actor: z.uuid().optional().meta({ description: 'The acting account id' }),
  site: siteIdSchema.optional().meta({ description: 'The acting account’s site' }),
  session: z.uuid().optional().meta({ description: 'The conference session concerned' }),
  outcome: z.enum(auditOutcomes).optional(),
  target: z
    .string()
    .trim()
    .max(200)
    .optional()
    .meta({ description: 'What was acted on, as `kind:id`, e.g. `account:<uuid>`, `site:aoshima`' }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(AUDIT_QUERY_MAX_LIMIT)
    .optional()
    .meta({ description: `Entries per page (default 100 for JSON, ${AUDIT_QUERY_MAX_LIMIT} for CSV)` }),
  cursor: auditCursorSchema.optional().meta({ description: 'The `nextCursor` of the previous page: older entries' }),
  format: z.enum(['json', 'csv']).default('json'),
});
export type AuditSearch = z.infer<typeof auditSearchSchema>;

/** The URL's query as an object for the schema; empty fields (an unfilled form) count as absent. */
export function searchParamsObject(url: URL): Record<string, string> {
  return Object.fromEntries([...url.searchParams].filter(([, value]) => value.trim() !== ''));
}

/** The search as URL query parameters again (without cursor and format), for links that keep it. */
export function searchQuery(search: Partial<AuditSearch>): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of ['from', 'to', 'action', 'actor', 'site', 'session', 'outcome', 'target'] as const) {
    const value = search[key];
    if (value) params.set(key, value);
  }
  return params;
}

export async function readAuditTrail(actor: AdminActor, search: AuditSearch, via: 'api' | 'page'): Promise<AuditPage> {
  const action = via === 'api' ? 'audit.exported' : 'audit.viewed';
  if (!mayReadAudit(actor.account)) {
    await auditAdministration(actor, action, undefined, 'denied');
    throw new ApiFailure('forbidden', 'only admins read the audit trail');
  }
  const { audit } = await webDomain();
  const page = await audit.query({
    ...(search.from ? { from: toUtcInstant(search.from, DEFAULT_TIME_ZONE) } : {}),
    ...(search.to ? { to: toUtcInstant(search.to, DEFAULT_TIME_ZONE) } : {}),
    ...(search.action ? { action: search.action } : {}),
    ...(search.actor ? { actorAccountId: search.actor } : {}),
    ...(search.site ? { siteId: search.site } : {}),
    ...(search.session ? { sessionId: search.session } : {}),
    ...(search.outcome ? { outcome: search.outcome } : {}),
    ...(search.target ? { target: search.target } : {}),
    ...(search.cursor ? { cursor: search.cursor } : {}),
    limit: search.limit ?? (search.format === 'csv' ? AUDIT_QUERY_MAX_LIMIT : 100),
  });
  await auditAdministration(actor, action, undefined, 'success', {
    filter: Object.fromEntries(searchQuery(search)),
    format: search.format,
    entries: page.entries.length,
  });
  return page;
}

/** Current names of the accounts acting in the entries. */
export async function actorNames(): Promise<ActorNames> {
  const { accounts } = await webDomain();
  return new Map(
    (await accounts.list()).map((account) => [
      account.id,
      { username: account.username, displayName: account.displayName },
    ]),
  );
}
