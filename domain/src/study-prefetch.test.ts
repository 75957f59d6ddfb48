import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { connectRedis, type RedisClient } from './redis.ts';
import {
  StudyPrefetchQueue,
  studyPrefetchDueKey,
  studyPrefetchJobKey,
  studyPrefetchSessionKey,
} from './study-prefetch.ts';

const silent = { warn: () => undefined };
const at = (ms: number) => new Date(Date.UTC(2030, 0, 1) + ms);
const study = (n: number) => `1.2.392.200036.9116.2.6.1.${n}`;
const progress = { instances: 0, bytes: 0 };

describe('study prefetch jobs on a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let jobs: StudyPrefetchQueue;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = await connectRedis(server.url, () => undefined);
  });
  beforeEach(async () => {
    await redis.flushAll();
    jobs = new StudyPrefetchQueue(redis, silent, { backoffBaseMs: 5_000, backoffMaxMs: 20_000, maxAttempts: 4 });
  });
  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  it('queues each study of a session once (enqueue is idempotent)', async () => {
    const sessionId = randomUUID();
    expect(await jobs.enqueue(sessionId, [study(1), study(2), study(1)], at(0))).toBe(2);
    expect(await jobs.enqueue(sessionId, [study(2), study(3)], at(1))).toBe(1);
    const progressed = await jobs.progressFor(sessionId);
    expect([...progressed.keys()]).toEqual([study(1), study(2), study(3)]);
    expect(progressed.get(study(2))).toMatchObject({
      sessionId,
      studyInstanceUid: study(2),
      state: 'queued',
      attempts: 0,
      instances: 0,
      bytes: 0,
      nextAttemptAt: at(0).getTime(),
    });
    expect(await redis.zCard(studyPrefetchDueKey)).toBe(3);
  });

  it('refuses what is not a DICOM UID or a session id', async () => {
    await expect(jobs.enqueue(randomUUID(), ['1.2.3.x'])).rejects.toThrow();
    await expect(jobs.enqueue('session:1', [study(1)])).rejects.toThrow();
  });

  it('hands a due job to one worker only, until its lease runs out', async () => {
    const sessionId = randomUUID();
    await jobs.enqueue(sessionId, [study(1)], at(0));
    const other = new StudyPrefetchQueue(redis, silent, { leaseMs: 60_000 });
    const claims = await Promise.all([jobs.claimDue(at(10)), other.claimDue(at(10)), jobs.claimDue(at(10))]);
    const held = claims.filter((claim) => claim !== null);
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ sessionId, studyInstanceUid: study(1), attempt: 1 });
    expect((await jobs.job(sessionId, study(1)))?.state).toBe('fetching');
    // The worker went silent: after the lease another one takes the job over, the first loses it.
    const takeover = await other.claimDue(at(10 + 60_001));
    expect(takeover).toMatchObject({ attempt: 2 });
    expect(await jobs.reportProgress(held[0]!, { instances: 1, bytes: 10 }, at(10 + 60_002))).toBe(false);
    expect(await other.reportProgress(takeover!, { instances: 1, bytes: 10 }, at(10 + 60_002))).toBe(true);
  });

  it('renews the lease with each progress report', async () => {
    const sessionId = randomUUID();
    await jobs.enqueue(sessionId, [study(1)], at(0));
    const claim = await jobs.claimDue(at(0));
    expect(claim).not.toBeNull();
    expect(await jobs.reportProgress(claim!, { instances: 3, bytes: 3_000 }, at(50_000))).toBe(true);
    expect(await jobs.claimDue(at(70_000))).toBeNull(); // would be free without the renewal
    expect(await jobs.job(sessionId, study(1))).toMatchObject({ state: 'fetching', instances: 3, bytes: 3_000 });
  });

  it('completes a job and keeps it out of the due set', async () => {
    const sessionId = randomUUID();
    await jobs.enqueue(sessionId, [study(1)], at(0));
    const claim = await jobs.claimDue(at(0));
    expect(await jobs.complete(claim!, { instances: 12, bytes: 120_000 }, at(1_000))).toBe(true);
    expect(await jobs.job(sessionId, study(1))).toMatchObject({ state: 'done', instances: 12, bytes: 120_000 });
    expect(await redis.zCard(studyPrefetchDueKey)).toBe(0);
    expect(await jobs.claimDue(at(10_000_000))).toBeNull();
    // Attaching the study again does not fetch it again.
    expect(await jobs.enqueue(sessionId, [study(1)], at(2_000))).toBe(0);
  });

  it('backs off exponentially (capped) and fails for good after the last attempt', async () => {
    const sessionId = randomUUID();
    await jobs.enqueue(sessionId, [study(1)], at(0));
    let now = 0;
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      const claim = await jobs.claimDue(at(now));
      expect(claim?.attempt).toBe(attempt);
      const state = await jobs.fail(claim!, 'PACS unavailable', progress, at(now));
      const job = await jobs.job(sessionId, study(1));
      expect(job?.error).toBe('PACS unavailable');
      if (attempt < 4) {
        expect(state).toBe('queued');
        expect(job).toMatchObject({ state: 'queued', attempts: attempt });
        waits.push(job!.nextAttemptAt - at(now).getTime());
        expect(await jobs.claimDue(at(now + waits.at(-1)! - 1))).toBeNull();
        now += waits.at(-1)!;
      } else {
        expect(state).toBe('failed');
        expect(job).toMatchObject({ state: 'failed', attempts: 4 });
      }
    }
    expect(waits).toEqual([5_000, 10_000, 20_000]);
    expect(await jobs.claimDue(at(10_000_000))).toBeNull();
    // Attaching the study again starts over.
    expect(await jobs.enqueue(sessionId, [study(1)], at(now))).toBe(1);
    expect(await jobs.job(sessionId, study(1))).toMatchObject({ state: 'queued', attempts: 0 });
    expect((await jobs.job(sessionId, study(1)))?.error).toBeUndefined();
  });

  it('drops due entries whose job expired, and skips damaged jobs', async () => {
    const sessionId = randomUUID();
    await jobs.enqueue(sessionId, [study(1), study(2)], at(0));
    await redis.del(studyPrefetchJobKey(sessionId, study(1)));
    await redis.hSet(studyPrefetchJobKey(sessionId, study(2)), 'state', 'exploded');
    const warned: object[] = [];
    const reading = new StudyPrefetchQueue(redis, { warn: (details) => warned.push(details) });
    expect((await reading.progressFor(sessionId)).size).toBe(0);
    expect(warned).toHaveLength(1);
    expect(await reading.claimDue(at(0))).toBeNull();
    expect(await redis.zCard(studyPrefetchDueKey)).toBe(0);
    expect(await redis.sCard(studyPrefetchSessionKey(sessionId))).toBe(2);
  });
});
