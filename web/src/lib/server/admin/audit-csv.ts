import type { StoredAuditEntry } from '@telemed/domain';
import { jstTimestamp, spreadsheetCsv } from '../spreadsheet-csv.ts';

/** The audit trail as CSV for spreadsheets (see spreadsheet-csv.ts for the format). */

export const auditCsvColumns = [
  'id',
  'at_utc',
  'at_jst',
  'action',
  'outcome',
  'actor_account_id',
  'actor_username',
  'actor_name',
  'site_id',
  'session_id',
  'target',
  'ip',
  'detail',
] as const;

/** Who an actor id stands for (the current account; null when gone). */
export type ActorNames = Map<string, { username: string; displayName: string }>;

export function auditCsv(entries: readonly StoredAuditEntry[], actors: ActorNames): string {
  const rows = entries.map((entry) => {
    const actor = entry.actorAccountId ? actors.get(entry.actorAccountId) : undefined;
    return [
      entry.id,
      entry.at,
      jstTimestamp(entry.at),
      entry.action,
      entry.outcome,
      entry.actorAccountId ?? '',
      actor?.username ?? '',
      actor?.displayName ?? '',
      entry.siteId ?? '',
      entry.sessionId ?? '',
      entry.target ?? '',
      entry.ip ?? '',
      entry.detail ? JSON.stringify(entry.detail) : '',
    ];
  });
  return spreadsheetCsv([[...auditCsvColumns], ...rows]);
}
