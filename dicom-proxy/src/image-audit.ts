import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AuditLog, AuditOutcome } from '@telemed/domain/audit-log';
import type { ImagingActor } from './imaging-access.ts';

/**
 * Every image access into the one audit trail (the domain's AuditLog, the Redis stream the web
 * server writes sign-ins and session changes to), so an admin sees who looked at which study
 * from which site in which session, and how much was sent.
 *
 * For the front, once per request:
 *   const entry = imageAudit.track(response, { action: 'image.retrieve', actor: access.actor,
 *     studyInstanceUid, seriesInstanceUid, ip: request.socket.remoteAddress });
 *   entry.countInstance();            // per instance streamed (optional)
 *   entry.note({ deidentified: true }); // anything else worth keeping (never tokens)
 * The entry is written when the response closes: body bytes counted from the response, the
 * outcome from its status (or `failure` when the client went away first). Writing is never
 * awaited by the request and never throws into it; a failed write is logged.
 *
 * For refusals before a token is known (401), pass `actor: null`.
 */

export const imageAuditActions = [
  'image.query',
  'image.metadata',
  'image.retrieve',
  'image.frames',
  'image.rendered',
  'image.denied',
] as const;
export type ImageAuditAction = (typeof imageAuditActions)[number];

export interface ImageAccessRecord {
  action: ImageAuditAction;
  actor: ImagingActor | null;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  ip?: string;
  /** Overrides the outcome read from the status code. */
  outcome?: AuditOutcome;
  detail?: Record<string, unknown>;
}

export interface TrackedImageAccess {
  countInstance(count?: number): void;
  note(detail: Record<string, unknown>): void;
}

/** `success` below 400, `denied` for 401/403, `failure` otherwise. */
export function outcomeOfStatus(status: number): AuditOutcome {
  if (status === 401 || status === 403) return 'denied';
  return status < 400 ? 'success' : 'failure';
}

export class ImageAudit {
  private readonly audit: AuditLog;
  private readonly logger: Logger;
  constructor(audit: AuditLog, logger: Logger) {
    this.audit = audit;
    this.logger = logger;
  }

  /** Writes one entry now; resolves when written or when the write failed (logged), never rejects. */
  async record(entry: ImageAccessRecord & { bytes?: number; instances?: number }): Promise<void> {
    const { action, actor, studyInstanceUid, seriesInstanceUid, ip, outcome, bytes, instances } = entry;
    const detail = {
      ...entry.detail,
      ...(bytes === undefined ? {} : { bytes }),
      ...(instances === undefined ? {} : { instances }),
      ...(seriesInstanceUid ? { seriesInstanceUid } : {}),
    };
    try {
      await this.audit.record({
        action,
        actorAccountId: actor?.accountId ?? null,
        outcome: outcome ?? 'success',
        ...(studyInstanceUid ? { target: `study:${studyInstanceUid}` } : {}),
        ...(actor ? { siteId: actor.siteId, sessionId: actor.sessionId } : {}),
        ...(ip ? { ip } : {}),
        detail,
      });
    } catch (error) {
      this.logger.error({ err: error, action, studyInstanceUid }, 'image access could not be audited');
    }
  }

  /** Counts the response's body bytes and records the entry when the response closes. */
  track(response: ServerResponse, entry: ImageAccessRecord): TrackedImageAccess {
    let bytes = 0;
    let instances: number | undefined;
    const extra: Record<string, unknown> = {};
    // Counted at write/end rather than from the socket: a kept-alive socket carries many responses.
    const count = (chunk: unknown, encoding: unknown) => {
      if (typeof chunk === 'string')
        bytes += Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
      else if (chunk instanceof Uint8Array) bytes += chunk.byteLength;
    };
    const write = response.write.bind(response) as (...args: unknown[]) => boolean;
    const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
    response.write = ((...args: unknown[]) => {
      count(args[0], args[1]);
      return write(...args);
    }) as ServerResponse['write'];
    response.end = ((...args: unknown[]) => {
      if (typeof args[0] !== 'function') count(args[0], args[1]);
      return end(...args);
    }) as ServerResponse['end'];
    response.once('close', () => {
      const finished = response.writableFinished;
      void this.record({
        ...entry,
        outcome: finished ? (entry.outcome ?? outcomeOfStatus(response.statusCode)) : 'failure',
        bytes,
        ...(instances === undefined ? {} : { instances }),
        detail: { ...entry.detail, ...extra, status: response.statusCode, ...(finished ? {} : { aborted: true }) },
      });
    });
    return {
      countInstance: (n = 1) => {
        instances = (instances ?? 0) + n;
      },
      note: (detail) => Object.assign(extra, detail),
    };
  }
}
