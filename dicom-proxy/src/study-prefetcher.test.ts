import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, StudyPrefetchQueue, type RedisClient, type StudyPrefetchJob } from '@telemed/domain';
import { writeTestSeries, type TestSeries } from '../../stack/dicom-test-series.ts';
import { freeTcpPort } from '../../stack/free-port.ts';
import { startPrivateOrthanc, type PrivateOrthanc } from '../../stack/private-orthanc.ts';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { createDicomWebSource } from './dicomweb-source.ts';
import { InstanceCache } from './instance-cache.ts';
import { StudyLocator } from './study-locator.ts';
import { startStudyPrefetcher, type StudyPrefetcher } from './study-prefetcher.ts';

const logger = pino({ level: 'silent' });

describe('study prefetcher with a real Orthanc and a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let dir: string;
  let orthanc: PrivateOrthanc | undefined;
  let prefetcher: StudyPrefetcher | undefined;
  let ports: { httpPort: number; dicomPort: number };
  const series: TestSeries[] = [];

  beforeAll(async () => {
    server = await startTestRedis();
    redis = await connectRedis(server.url, () => undefined);
    dir = await mkdtemp(join(tmpdir(), 'study-prefetcher-'));
    ports = { httpPort: await freeTcpPort(), dicomPort: await freeTcpPort() };
    // Store a two-series study in a persistent Orthanc, then stop it: the PACS is "down".
    const studyInstanceUid = '2.25.1234567890123456789';
    for (const seed of ['prefetch-a', 'prefetch-b']) {
      series.push(
        await writeTestSeries({
          dir: join(dir, 'series', seed),
          modality: 'CT',
          slices: 3,
          rows: 32,
          columns: 32,
          patientName: 'Yamada^Taro=山田^太郎',
          patientId: 'P-PREFETCH',
          characterSet: 'ISO_IR 192',
          studyInstanceUid,
          seriesNumber: series.length + 1,
          seed,
        }),
      );
    }
    const pacs = await startPrivateOrthanc({ dir: join(dir, 'orthanc'), ...ports, persistent: true });
    await pacs.storeFiles(series.flatMap((one) => one.instances.map((instance) => instance.path)));
    await pacs.stop();
  });
  afterAll(async () => {
    await prefetcher?.close();
    await orthanc?.stop();
    await redis?.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Polls the job until it matches (the deadline only keeps a broken test from hanging). */
  async function jobWhen(
    jobs: StudyPrefetchQueue,
    sessionId: string,
    study: string,
    wanted: (job: StudyPrefetchJob) => boolean,
  ): Promise<StudyPrefetchJob> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const job = await jobs.job(sessionId, study);
      if (job && wanted(job)) return job;
      if (Date.now() > deadline) throw new Error(`prefetch job never matched: ${JSON.stringify(job)}`);
      await sleep(25);
    }
  }

  it('retries an upstream that fails twice, then caches every instance', async () => {
    const study = series[0]!.studyInstanceUid;
    const source = createDicomWebSource({
      id: 'island-pacs',
      url: `http://127.0.0.1:${ports.httpPort}/dicom-web/`,
      timeoutMs: 5_000,
    });
    const cache = await InstanceCache.open({ directory: join(dir, 'cache'), maxBytes: 100 * 1024 ** 2 });
    // A clock the test moves, so the backoff waits are exact and no real time has to pass.
    let clock = Date.UTC(2030, 0, 1);
    const now = () => new Date(clock);
    const jobs = new StudyPrefetchQueue(redis, logger, { backoffBaseMs: 1_000, maxAttempts: 8 });
    prefetcher = startStudyPrefetcher({
      jobs,
      locator: new StudyLocator([source]),
      cache,
      logger,
      pollIntervalMs: 20,
      now,
    });

    const sessionId = randomUUID();
    expect(await jobs.enqueue(sessionId, [study], now())).toBe(1);
    const first = await jobWhen(jobs, sessionId, study, (job) => job.attempts === 1 && job.state === 'queued');
    expect(first.nextAttemptAt).toBe(clock + 1_000);
    expect(first.error).toMatch(/./);
    clock += 1_000;
    const second = await jobWhen(jobs, sessionId, study, (job) => job.attempts === 2 && job.state === 'queued');
    expect(second.nextAttemptAt).toBe(clock + 2_000);

    orthanc = await startPrivateOrthanc({ dir: join(dir, 'orthanc'), ...ports, persistent: true });
    clock += 2_000;
    const done = await jobWhen(jobs, sessionId, study, (job) => job.state === 'done');
    const instances = series.flatMap((one) =>
      one.instances.map((instance) => ({
        sourceId: source.id,
        studyInstanceUid: study,
        seriesInstanceUid: one.seriesInstanceUid,
        sopInstanceUid: instance.sopInstanceUid,
      })),
    );
    expect(done).toMatchObject({ attempts: 3, instances: instances.length });
    expect(done.error).toBeUndefined();
    expect((await jobs.progressFor(sessionId)).get(study)?.state).toBe('done');

    // The PACS goes away again: every instance and both series are served from the cache alone.
    await orthanc.stop();
    orthanc = undefined;
    let upstreamCalls = 0;
    const upstream = async (): Promise<AsyncIterable<Uint8Array>> => {
      upstreamCalls += 1;
      throw new Error('the upstream must not be asked');
    };
    let bytes = 0;
    for (const key of instances) bytes += (await cache.readOrFetch(key, upstream)).length;
    expect(upstreamCalls).toBe(0);
    expect(done.bytes).toBe(bytes);
    for (const one of series) {
      const cached = await cache.cachedSeries({
        sourceId: source.id,
        studyInstanceUid: study,
        seriesInstanceUid: one.seriesInstanceUid,
      });
      expect(cached?.map((key) => key.sopInstanceUid).sort()).toEqual(
        one.instances.map((instance) => instance.sopInstanceUid).sort(),
      );
    }
    await prefetcher.close();
    prefetcher = undefined;
    await source.close();
  });
});
