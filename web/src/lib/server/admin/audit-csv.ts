import type { StoredAuditEntry } from '@telemed/domain';

/**
 * The audit trail as CSV for spreadsheets: RFC 4180 (every field quoted, quotes doubled, CRLF
 * line ends), UTF-8 with a byte-order mark so Excel in Japan shows Japanese text. Written by
 * hand: the quoting is a few lines, and cells starting with = + - @ are prefixed with ' so a
 * spreadsheet never runs a value someone typed (a display name, a username) as a formula.
 */

const BOM = '\uFEFF';

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

function csvField(value: string): string {
  const neutralised = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${neutralised.replaceAll('"', '""')}"`;
}

const jst = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Asia/Tokyo',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** `2026-03-01 10:00:05` in Japan time (a form spreadsheets read as a date and time). */
export function jstTimestamp(instant: string): string {
  const time = new Date(instant);
  return Number.isNaN(time.getTime()) ? '' : jst.format(time);
}

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
  return BOM + [[...auditCsvColumns], ...rows].map((row) => row.map(csvField).join(',') + '\r\n').join('');
}
