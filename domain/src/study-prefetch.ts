import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { RecordWarnings } from './json-records.ts';
import { dicomUidSchema } from './records.ts';
import type { RedisClient } from './redis.ts';

/**
 * The prefetch jobs: one per (Session, Study) attached to a case, so the dicom-proxy can copy the
 * study into its cache before the conference. The job list is durable in Redis and shared by all
 * proxy nodes; a claim is atomic and carries a lease, so two nodes never fetch the same study at
 * once, and a node that dies mid-fetch only delays the study until its lease runs out.
 *
 * Keys:
 * - `prefetch:job:<sessionId>:<studyUid>` → hash: the job's fields (state, attempts, progress, lease)
 * - `prefetch:session:<sessionId>` → set of the session's study UIDs
 * - `prefetch:due` → sorted set of `<sessionId>/<studyUid>` scored by when a worker may take it
 *   next (the retry time of a waiting job, the lease expiry of a job being fetched)
 */

export const studyPrefetchStateSchema = z.enum(['queued', 'fetching', 'done', 'failed']);
export type StudyPrefetchState = z.infer<typeof studyPrefetchStateSchema>;

const count = z.coerce.number().int().min(0);

/** A job as stored (hash fields are strings, hence the coercion). */
const storedJobSchema = z.object({
  sessionId: z.uuid(),
  studyInstanceUid: dicomUidSchema,
  state: studyPrefetchStateSchema,
  /** Attempts started so far (a claim starts one). */
  attempts: count,
  /** When a worker may take the job next (ms since epoch); for a fetching job, its lease expiry. */
  nextAttemptAt: count,
  instances: count,
  bytes: count,
  error: z.string().max(500).optional(),
  updatedAt: z.iso.datetime(),
  lease: z.string().optional(),
});

export type StudyPrefetchJob = Omit<z.infer<typeof storedJobSchema>, 'lease'>;

/** A job a worker holds: report under its lease, which lapses unless progress renews it. */
export interface StudyPrefetchClaim {
  sessionId: string;
  studyInstanceUid: string;
  /** Which attempt this is (1 for the first). */
  attempt: number;
  lease: string;
}

export interface StudyPrefetchOptions {
  /** First retry delay; doubled per failed attempt. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** After this many failed attempts the job is `failed` for good (until enqueued again). */
  maxAttempts?: number;
  /** How long a claim holds without progress before another worker may take the job. */
  leaseMs?: number;
  /** How long jobs are kept after their last change. */
  retentionMs?: number;
}

export const jobKeyPrefix = 'prefetch:job:';
export const studyPrefetchJobKey = (sessionId: string, studyUid: string) => `${jobKeyPrefix}${sessionId}:${studyUid}`;
export const studyPrefetchSessionKey = (sessionId: string) => `prefetch:session:${sessionId}`;
export const studyPrefetchDueKey = 'prefetch:due';
const dueMember = (sessionId: string, studyUid: string) => `${sessionId}/${studyUid}`;

/** Creates the job when missing; a `failed` one starts over. ARGV: sessionId, studyUid, now ms, now ISO, member, retention ms. */
const ENQUEUE = `
local state = redis.call('HGET', KEYS[1], 'state')
if state and state ~= 'failed' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'sessionId', ARGV[1], 'studyInstanceUid', ARGV[2], 'state', 'queued',
  'attempts', 0, 'nextAttemptAt', ARGV[3], 'instances', 0, 'bytes', 0, 'updatedAt', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[5])
return 1`;

/**
 * Takes the first due job: marks it fetching under a new lease and pushes its due time to the
 * lease expiry. Members whose job vanished (expired) are dropped on the way.
 * ARGV: now ms, lease, now ISO, lease ms, job key prefix, retention ms.
 */
const CLAIM = `
for i = 1, 20 do
  local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1)
  if #members == 0 then return nil end
  local member = members[1]
  local slash = string.find(member, '/', 1, true)
  local jobKey = ARGV[5] .. string.sub(member, 1, slash - 1) .. ':' .. string.sub(member, slash + 1)
  local state = redis.call('HGET', jobKey, 'state')
  if state == 'queued' or state == 'fetching' then
    local expiry = tonumber(ARGV[1]) + tonumber(ARGV[4])
    local attempts = redis.call('HINCRBY', jobKey, 'attempts', 1)
    redis.call('HSET', jobKey, 'state', 'fetching', 'lease', ARGV[2], 'nextAttemptAt', expiry, 'updatedAt', ARGV[3])
    redis.call('HDEL', jobKey, 'error')
    redis.call('PEXPIRE', jobKey, ARGV[6])
    redis.call('ZADD', KEYS[1], expiry, member)
    return {member, attempts}
  end
  redis.call('ZREM', KEYS[1], member)
end
return nil`;

/** Progress under a lease, renewing it. ARGV: lease, instances, bytes, now ISO, expiry ms, member. */
const PROGRESS = `
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'instances', ARGV[2], 'bytes', ARGV[3], 'updatedAt', ARGV[4], 'nextAttemptAt', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
return 1`;

/**
 * Ends an attempt under its lease. ARGV: lease, new state, next attempt ms ('' = leave the due
 * set), now ISO, member, error ('' = none), instances, bytes.
 */
const FINISH = `
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'updatedAt', ARGV[4], 'instances', ARGV[7], 'bytes', ARGV[8])
redis.call('HDEL', KEYS[1], 'lease')
if ARGV[6] == '' then redis.call('HDEL', KEYS[1], 'error') else redis.call('HSET', KEYS[1], 'error', ARGV[6]) end
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[2], ARGV[5])
else
  redis.call('HSET', KEYS[1], 'nextAttemptAt', ARGV[3])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
end
return 1`;

export class StudyPrefetchQueue {
  private readonly redis: RedisClient;
  private readonly warnings: RecordWarnings;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly maxAttempts: number;
  private readonly leaseMs: number;
  private readonly retentionMs: number;

  constructor(redis: RedisClient, warnings: RecordWarnings, options: StudyPrefetchOptions = {}) {
    this.redis = redis;
    this.warnings = warnings;
    this.backoffBaseMs = options.backoffBaseMs ?? 5_000;
    this.backoffMaxMs = options.backoffMaxMs ?? 5 * 60_000;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.retentionMs = options.retentionMs ?? 30 * 24 * 3600_000;
  }

  /** Queues the studies of a session; a study already queued, fetching or done is left alone. Returns how many were queued. */
  async enqueue(sessionId: string, studyUids: readonly string[], now = new Date()): Promise<number> {
    const session = z.uuid().parse(sessionId);
    const uids = z
      .array(dicomUidSchema)
      .max(100)
      .parse([...new Set(studyUids)]);
    let queued = 0;
    for (const uid of uids) {
      const created = await this.redis.eval(ENQUEUE, {
        keys: [studyPrefetchJobKey(session, uid), studyPrefetchSessionKey(session), studyPrefetchDueKey],
        arguments: [
          session,
          uid,
          String(now.getTime()),
          now.toISOString(),
          dueMember(session, uid),
          String(this.retentionMs),
        ],
      });
      if (created === 1) queued += 1;
    }
    return queued;
  }

  /** The next job due at `now`, now held by the caller; null when nothing is due. */
  async claimDue(now = new Date()): Promise<StudyPrefetchClaim | null> {
    const lease = randomUUID();
    const claimed = await this.redis.eval(CLAIM, {
      keys: [studyPrefetchDueKey],
      arguments: [
        String(now.getTime()),
        lease,
        now.toISOString(),
        String(this.leaseMs),
        jobKeyPrefix,
        String(this.retentionMs),
      ],
    });
    const parsed = z.tuple([z.string(), z.number().int()]).safeParse(claimed);
    if (!parsed.success) return null;
    const [member, attempt] = parsed.data;
    const [sessionId = '', studyInstanceUid = ''] = member.split('/');
    return { sessionId, studyInstanceUid, attempt, lease };
  }

  /** Records progress and renews the lease; false when the lease was lost (another worker took over). */
  async reportProgress(
    claim: StudyPrefetchClaim,
    progress: { instances: number; bytes: number },
    now = new Date(),
  ): Promise<boolean> {
    const expiry = now.getTime() + this.leaseMs;
    const done = await this.redis.eval(PROGRESS, {
      keys: [studyPrefetchJobKey(claim.sessionId, claim.studyInstanceUid), studyPrefetchDueKey],
      arguments: [
        claim.lease,
        String(progress.instances),
        String(progress.bytes),
        now.toISOString(),
        String(expiry),
        dueMember(claim.sessionId, claim.studyInstanceUid),
      ],
    });
    return done === 1;
  }

  /** The study is cached whole. */
  async complete(claim: StudyPrefetchClaim, progress: { instances: number; bytes: number }, now = new Date()) {
    return this.finish(claim, 'done', '', '', progress, now);
  }

  /**
   * The attempt failed: the job waits base·2^(n−1) (capped) before attempt n+1, or becomes
   * `failed` after the last attempt. Returns the new state, or null when the lease was lost.
   */
  async fail(
    claim: StudyPrefetchClaim,
    error: string,
    progress: { instances: number; bytes: number },
    now = new Date(),
  ): Promise<'queued' | 'failed' | null> {
    const message = error.slice(0, 500) || 'failed';
    if (claim.attempt >= this.maxAttempts) {
      return (await this.finish(claim, 'failed', '', message, progress, now)) ? 'failed' : null;
    }
    const delay = Math.min(this.backoffBaseMs * 2 ** (claim.attempt - 1), this.backoffMaxMs);
    const next = String(now.getTime() + delay);
    return (await this.finish(claim, 'queued', next, message, progress, now)) ? 'queued' : null;
  }

  private async finish(
    claim: StudyPrefetchClaim,
    state: StudyPrefetchState,
    nextAttemptAt: string,
    error: string,
    progress: { instances: number; bytes: number },
    now: Date,
  ): Promise<boolean> {
    const done = await this.redis.eval(FINISH, {
      keys: [studyPrefetchJobKey(claim.sessionId, claim.studyInstanceUid), studyPrefetchDueKey],
      arguments: [
        claim.lease,
        state,
        nextAttemptAt,
        now.toISOString(),
        dueMember(claim.sessionId, claim.studyInstanceUid),
        error,
        String(progress.instances),
        String(progress.bytes),
      ],
    });
    return done === 1;
  }

  /** One job, or null when there is none (or it is damaged: reported, skipped). */
  async job(sessionId: string, studyUid: string): Promise<StudyPrefetchJob | null> {
    const key = studyPrefetchJobKey(sessionId, studyUid);
    const fields = await this.redis.hGetAll(key);
    if (Object.keys(fields).length === 0) return null;
    const parsed = storedJobSchema.safeParse(fields);
    if (!parsed.success) {
      this.warnings.warn({ key, err: parsed.error }, 'stored prefetch job does not parse; skipped');
      return null;
    }
    const { lease: _lease, ...job } = parsed.data;
    return job;
  }

  /** The session's jobs by Study Instance UID. */
  async progressFor(sessionId: string): Promise<Map<string, StudyPrefetchJob>> {
    const session = z.uuid().safeParse(sessionId);
    const jobs = new Map<string, StudyPrefetchJob>();
    if (!session.success) return jobs;
    const uids = (await this.redis.sMembers(studyPrefetchSessionKey(session.data))).sort();
    for (const uid of uids) {
      const job = await this.job(session.data, uid);
      if (job) jobs.set(uid, job);
    }
    return jobs;
  }
}
