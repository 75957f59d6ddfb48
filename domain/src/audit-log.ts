import { z } from 'zod';
import { issue, parseInput } from './field-issues.ts';
import { siteIdSchema } from './records.ts';
import type { RedisClient } from './redis.ts';

/**
 * The append-only audit trail: every sign-in, every session change and every image access.
 * Entries go to one Redis stream (never trimmed), in UTC. This class only appends and reads:
 * nothing in the application can edit or delete an entry.
 */
export const AUDIT_STREAM = 'audit';

export const auditOutcomes = ['success', 'failure', 'denied'] as const;
export type AuditOutcome = (typeof auditOutcomes)[number];

export interface AuditEntry {
  /** What happened, e.g. `signin.succeeded`, `conference.joined`, `conference.denied`. */
  action: string;
  /** The acting account, or null for anonymous attempts. */
  actorAccountId: string | null;
  /** What it was done to, as `kind:id`, e.g. `session:<uuid>`, `account:<uuid>`, `site:<id>`. */
  target?: string;
  /** Whether it happened: `success` (the default), `failure` (e.g. a wrong password) or `denied`. */
  outcome?: AuditOutcome;
  /** The session concerned, for filtering a session's whole record. */
  sessionId?: string;
  /** The actor's site. */
  siteId?: string;
  /** Where the request came from. */
  ip?: string;
  /** Anything else worth keeping; never passwords or tokens. */
  detail?: Record<string, unknown>;
}

export interface StoredAuditEntry extends AuditEntry {
  id: string;
  at: string;
  outcome: AuditOutcome;
}

/** The most entries one query answers. */
export const AUDIT_QUERY_MAX_LIMIT = 10_000;
/** The most entries one query looks at (bounds the work a rare filter over a long trail costs). */
export const AUDIT_SCAN_LIMIT = 100_000;
const SCAN_BATCH = 500;

/** A stream entry id, `<milliseconds>-<sequence>`: where the previous page stopped. */
export const auditCursorSchema = z.string().regex(/^\d{1,15}-\d{1,19}$/, 'a cursor from a previous page');

/** An action, or a prefix of actions ending in `.` or `*` (`signin.` matches `signin.failed`). */
export const auditActionFilterSchema = z
  .string()
  .trim()
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._-]*\*?$/, 'an action such as signin.failed, or a prefix such as signin.');

/** Which entries to read. Times are UTC instants (or with an offset); `to` is exclusive. */
export const auditFilterSchema = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    action: auditActionFilterSchema.optional(),
    actorAccountId: z.uuid().optional(),
    siteId: siteIdSchema.optional(),
    sessionId: z.uuid().optional(),
    outcome: z.enum(auditOutcomes).optional(),
    target: z.string().trim().min(1).max(200).optional(),
    limit: z.number().int().min(1).max(AUDIT_QUERY_MAX_LIMIT).default(100),
    cursor: auditCursorSchema.optional(),
  })
  .superRefine((filter, context) => {
    if (filter.from && filter.to && Date.parse(filter.to) <= Date.parse(filter.from)) {
      const { code, message } = issue('to', 'end_before_start', 'the end must be after the start');
      context.addIssue({ code: 'custom', path: ['to'], message, params: { code } });
    }
  });
export type AuditFilterInput = z.input<typeof auditFilterSchema>;
export type AuditFilter = z.infer<typeof auditFilterSchema>;

export interface AuditPage {
  entries: StoredAuditEntry[];
  /** Pass as `cursor` for the next (older) page; null when there are no more entries. */
  nextCursor: string | null;
}

export class AuditLog {
  private readonly redis: RedisClient;
  private readonly scanLimit: number;
  /** `scanLimit` (default AUDIT_SCAN_LIMIT): the most entries one query looks at. */
  constructor(redis: RedisClient, options: { scanLimit?: number } = {}) {
    this.redis = redis;
    this.scanLimit = options.scanLimit ?? AUDIT_SCAN_LIMIT;
  }

  async record(entry: AuditEntry): Promise<void> {
    const fields: Record<string, string> = {
      at: new Date().toISOString(),
      action: entry.action,
      actor: entry.actorAccountId ?? '',
      outcome: entry.outcome ?? 'success',
    };
    if (entry.target) fields.target = entry.target;
    if (entry.sessionId) fields.sessionId = entry.sessionId;
    if (entry.siteId) fields.siteId = entry.siteId;
    if (entry.ip) fields.ip = entry.ip;
    if (entry.detail) fields.detail = JSON.stringify(entry.detail);
    await this.redis.xAdd(AUDIT_STREAM, '*', fields);
  }

  /** The newest entries first. */
  async recent(count: number): Promise<StoredAuditEntry[]> {
    const entries = await this.redis.xRevRange(AUDIT_STREAM, '+', '-', { COUNT: count });
    return (entries ?? []).map(storedEntry);
  }

  /**
   * The entries matching `filter`, newest first, a page of at most `limit`. `nextCursor` (the id
   * of the last entry looked at) continues with older entries; it is null once the range is
   * exhausted. One call looks at no more than `scanLimit` entries, so a rare filter over a
   * long trail may answer a short (even empty) page with a cursor to carry on from.
   */
  async query(input: AuditFilterInput = {}): Promise<AuditPage> {
    const filter = parseInput(auditFilterSchema, input);
    const start = filter.from ? `${Date.parse(filter.from)}-0` : '-';
    let end = filter.to ? `(${Date.parse(filter.to)}-0` : '+';
    if (filter.cursor && (end === '+' || compareStreamIds(filter.cursor, end.slice(1)) < 0)) end = `(${filter.cursor}`;
    const entries: StoredAuditEntry[] = [];
    let looked = 0;
    for (;;) {
      const batch = (await this.redis.xRevRange(AUDIT_STREAM, end, start, { COUNT: SCAN_BATCH })) ?? [];
      for (const raw of batch) {
        looked += 1;
        const entry = storedEntry(raw);
        if (matchesFilter(entry, filter)) entries.push(entry);
        if (entries.length >= filter.limit || looked >= this.scanLimit) return { entries, nextCursor: raw.id };
      }
      const last = batch.at(-1);
      if (!last || batch.length < SCAN_BATCH) return { entries, nextCursor: null };
      end = `(${last.id}`;
    }
  }
}

/** Stream entry ids are `<milliseconds>-<sequence>`; compared as numbers, not as text. */
function compareStreamIds(a: string, b: string): number {
  const [aMs = 0n, aSeq = 0n] = a.split('-').map(BigInt);
  const [bMs = 0n, bSeq = 0n] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}

function matchesFilter(entry: StoredAuditEntry, filter: AuditFilter): boolean {
  if (filter.action) {
    const prefix = filter.action.endsWith('*') ? filter.action.slice(0, -1) : filter.action;
    const isPrefix = filter.action.endsWith('*') || filter.action.endsWith('.');
    if (isPrefix ? !entry.action.startsWith(prefix) : entry.action !== filter.action) return false;
  }
  return (
    (filter.actorAccountId === undefined || entry.actorAccountId === filter.actorAccountId) &&
    (filter.siteId === undefined || entry.siteId === filter.siteId) &&
    (filter.sessionId === undefined || entry.sessionId === filter.sessionId) &&
    (filter.outcome === undefined || entry.outcome === filter.outcome) &&
    (filter.target === undefined || entry.target === filter.target)
  );
}

/** A stream entry as an audit entry. Never throws: a damaged detail is kept as its raw text. */
function storedEntry({ id, message }: { id: string; message: Record<string, unknown> }): StoredAuditEntry {
  const text = (field: string) =>
    typeof message[field] === 'string' && message[field] !== '' ? message[field] : undefined;
  let detail: Record<string, unknown> | undefined;
  const rawDetail = text('detail');
  if (rawDetail !== undefined) {
    try {
      const parsed: unknown = JSON.parse(rawDetail);
      detail = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : { value: parsed };
    } catch {
      detail = { unparsed: rawDetail };
    }
  }
  const target = text('target');
  const sessionId = text('sessionId');
  const siteId = text('siteId');
  const ip = text('ip');
  return {
    id,
    at: text('at') ?? new Date(Number(id.split('-')[0])).toISOString(),
    action: text('action') ?? '',
    actorAccountId: text('actor') ?? null,
    outcome: auditOutcomes.find((outcome) => outcome === message.outcome) ?? 'success',
    ...(target ? { target } : {}),
    ...(sessionId ? { sessionId } : {}),
    ...(siteId ? { siteId } : {}),
    ...(ip ? { ip } : {}),
    ...(detail ? { detail } : {}),
  };
}
