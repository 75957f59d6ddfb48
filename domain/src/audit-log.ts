import type { RedisClient } from './redis.ts';

/**
 * The append-only audit trail: every sign-in, every session change and every image access.
 * Entries go to one Redis stream (never trimmed), in UTC.
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

export class AuditLog {
  private readonly redis: RedisClient;
  constructor(redis: RedisClient) {
    this.redis = redis;
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
    return (entries ?? []).map(({ id, message }) => ({
      id,
      at: String(message.at),
      action: String(message.action),
      actorAccountId: message.actor ? String(message.actor) : null,
      outcome: auditOutcomes.find((outcome) => outcome === message.outcome) ?? 'success',
      ...(message.target ? { target: String(message.target) } : {}),
      ...(message.sessionId ? { sessionId: String(message.sessionId) } : {}),
      ...(message.siteId ? { siteId: String(message.siteId) } : {}),
      ...(message.ip ? { ip: String(message.ip) } : {}),
      ...(message.detail ? { detail: JSON.parse(String(message.detail)) as Record<string, unknown> } : {}),
    }));
  }
}
