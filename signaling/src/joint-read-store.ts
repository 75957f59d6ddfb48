import { z } from 'zod';
import { emptyJointReadState, jointReadStateSchema, type JointReadState, type SiteReadiness } from '@telemed/contract';
import { RedisStore } from '@telemed/domain';

/**
 * The authoritative joint-read state of each live session, in Redis so that any signaling node
 * can serve the session (and take over when another goes away). Keys:
 *   `joint-read:{sessionId}`           hash: `seq`, `state` (JSON of JointReadState)
 *   `joint-read:{sessionId}:progress`  hash: participantId → JSON of ParticipantProgress
 * Writes are compare-and-set on `seq` (a Lua script), so two nodes never lose each other's
 * change; both keys expire two days after their last write.
 */

const stateKey = (sessionId: string) => `joint-read:${sessionId}`;
const progressKey = (sessionId: string) => `joint-read:${sessionId}:progress`;
const KEEP_MS = 2 * 24 * 60 * 60 * 1000;

const COMPARE_AND_SET = `
local current = redis.call('HGET', KEYS[1], 'seq')
if (current or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'seq', ARGV[2], 'state', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

const progressSchema = z.strictObject({
  siteId: z.string().min(1).max(64),
  seriesInstanceUid: z.string().min(1).max(64),
  loadedImages: z.int().min(0),
  totalImages: z.int().min(0),
});
export type ParticipantProgress = z.infer<typeof progressSchema>;

/** Thrown when the state kept changing under a writer (only under a storm of hand-offs). */
export class JointReadContention extends Error {
  constructor() {
    super('the joint-read state kept changing; try again');
    this.name = 'JointReadContention';
  }
}

export class JointReadStore extends RedisStore {
  /**
   * The state this node last read or wrote per session: a presenter's next change is tried
   * against it straight away (one round trip instead of two); the compare-and-set catches it
   * being stale, and the state is read again then.
   */
  private readonly lastKnown = new Map<string, JointReadState>();

  async get(sessionId: string): Promise<JointReadState> {
    const stored = await this.redis.hGet(stateKey(sessionId), 'state');
    if (!stored) return emptyJointReadState();
    const parsed = jointReadStateSchema.safeParse(JSON.parse(stored));
    if (parsed.success) return parsed.data;
    // Not dropped: a newer release may have written it. The read starts afresh beside it.
    this.warnings.warn(
      { key: stateKey(sessionId), issues: parsed.error.issues.slice(0, 3) },
      'joint-read state unreadable',
    );
    return emptyJointReadState();
  }

  /**
   * Applies `change` to the current state and stores the result if nobody wrote in between
   * (else reads again and retries). `change` returns the same object for "nothing to do", and
   * may throw to refuse (nothing is stored then).
   */
  async update(
    sessionId: string,
    change: (current: JointReadState) => JointReadState,
  ): Promise<{ before: JointReadState; after: JointReadState }> {
    let known = this.lastKnown.get(sessionId);
    for (let attempt = 0; attempt < 8; attempt += 1) {
      const before = known ?? (await this.get(sessionId));
      known = undefined;
      let after: JointReadState;
      try {
        after = change(before);
      } catch (error) {
        // A refusal against a remembered state may be wrong (it may be stale): decide on a fresh one.
        if (attempt === 0 && this.lastKnown.delete(sessionId)) continue;
        throw error;
      }
      if (after === before) return { before, after };
      const stored = jointReadStateSchema.parse(after);
      const written = await this.redis.eval(COMPARE_AND_SET, {
        keys: [stateKey(sessionId)],
        arguments: [String(before.seq), String(stored.seq), JSON.stringify(stored), String(KEEP_MS)],
      });
      if (written === 1) {
        this.remember(sessionId, stored);
        return { before, after: stored };
      }
      this.lastKnown.delete(sessionId);
    }
    throw new JointReadContention();
  }

  private remember(sessionId: string, state: JointReadState): void {
    // Live sessions on one node are few; a bound keeps a long-running node from collecting ended ones.
    if (this.lastKnown.size >= 1_000 && !this.lastKnown.has(sessionId)) this.lastKnown.clear();
    this.lastKnown.set(sessionId, state);
  }

  async setProgress(sessionId: string, participantId: string, progress: ParticipantProgress): Promise<void> {
    const key = progressKey(sessionId);
    await this.redis
      .multi()
      .hSet(key, participantId, JSON.stringify(progressSchema.parse(progress)))
      .pExpire(key, KEEP_MS)
      .exec();
  }

  async forgetProgress(sessionId: string, participantId: string): Promise<void> {
    await this.redis.hDel(progressKey(sessionId), participantId);
  }

  /**
   * Per site, how far its participants have loaded `seriesInstanceUid` (all series when none is
   * open): the slowest participant of a site counts, and a site is ready when every one of its
   * participants has loaded every image.
   */
  async readiness(sessionId: string, seriesInstanceUid: string | undefined): Promise<SiteReadiness[]> {
    const entries = await this.redis.hGetAll(progressKey(sessionId));
    const bySite = new Map<string, SiteReadiness>();
    for (const value of Object.values(entries)) {
      const parsed = progressSchema.safeParse(JSON.parse(value));
      if (!parsed.success) continue;
      const progress = parsed.data;
      if (seriesInstanceUid && progress.seriesInstanceUid !== seriesInstanceUid) continue;
      const done = progress.totalImages > 0 && progress.loadedImages >= progress.totalImages;
      const site = bySite.get(progress.siteId);
      if (!site) {
        bySite.set(progress.siteId, {
          siteId: progress.siteId,
          loadedImages: progress.loadedImages,
          totalImages: progress.totalImages,
          ready: done,
        });
        continue;
      }
      site.loadedImages = Math.min(site.loadedImages, progress.loadedImages);
      site.totalImages = Math.max(site.totalImages, progress.totalImages);
      site.ready = site.ready && done;
    }
    return [...bySite.values()].sort((a, b) => a.siteId.localeCompare(b.siteId));
  }
}
