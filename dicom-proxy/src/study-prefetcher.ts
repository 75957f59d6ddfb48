import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { dicomUidSchema } from '@telemed/domain/records';
import type { StudyPrefetchClaim, StudyPrefetchQueue } from '@telemed/domain/study-prefetch';
import type { DicomJsonDataset } from './dicom-json.ts';
import { FrontError } from './front-errors.ts';
import type { InstanceCache, InstanceKey } from './instance-cache.ts';
import type { StudyLocator } from './study-locator.ts';
import { SourceError, type StudySource } from './study-source.ts';

/**
 * Copies the studies of upcoming Sessions into the instance cache before the conference (the
 * prefetch jobs in Redis, queued when a case is attached). Instances are stored exactly as a
 * viewer's retrieve stores them and every series is remembered as whole, so the viewer is then
 * served from the cache even when the island's link to the PACS is slow or down.
 *
 * Each node runs a few workers that claim due jobs; a failed attempt is retried with backoff by
 * the job list. On close the current attempts are aborted without counting as failures: their
 * leases lapse and another node (or this one after a restart) takes them up again.
 */

export interface StudyPrefetcherOptions {
  jobs: StudyPrefetchQueue;
  locator: StudyLocator;
  cache: InstanceCache;
  logger: Logger;
  /** Jobs fetched at once on this node. */
  concurrency?: number;
  /** How long an idle worker waits before asking for due jobs again. */
  pollIntervalMs?: number;
  /** Progress is written at most this often (and at each series' end), which also renews the lease. */
  progressIntervalMs?: number;
  now?: () => Date;
}

export interface StudyPrefetcher {
  close(): Promise<void>;
}

const SERIES_INSTANCE_UID = '0020000E';

interface Progress {
  instances: number;
  bytes: number;
}

/** Another node took the job over (our lease lapsed): stop quietly, it is theirs now. */
class LeaseLostError extends Error {
  constructor() {
    super('prefetch lease lost');
    this.name = 'LeaseLostError';
  }
}

function seriesUids(source: StudySource, datasets: readonly DicomJsonDataset[]): string[] {
  const uids = new Set<string>();
  for (const dataset of datasets) {
    const parsed = dicomUidSchema.safeParse(dataset[SERIES_INSTANCE_UID]?.Value?.[0]);
    if (!parsed.success) throw new SourceError(source.id, 'refused', 'the source listed a series without a usable UID');
    uids.add(parsed.data);
  }
  return [...uids];
}

export function startStudyPrefetcher(options: StudyPrefetcherOptions): StudyPrefetcher {
  const { jobs, locator, cache, logger } = options;
  const now = options.now ?? (() => new Date());
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const progressIntervalMs = options.progressIntervalMs ?? 1_000;
  const stop = new AbortController();

  /** Fetches every series of the study not already whole in the cache, reporting as it goes. */
  async function prefetch(claim: StudyPrefetchClaim, progress: Progress): Promise<void> {
    const signal = stop.signal;
    const study = claim.studyInstanceUid;
    let reportedAt = 0;
    const report = async (force: boolean) => {
      if (!force && Date.now() - reportedAt < progressIntervalMs) return;
      reportedAt = Date.now();
      if (!(await jobs.reportProgress(claim, progress, now()))) throw new LeaseLostError();
    };

    const source = await locator.locate(study, signal);
    const listed = await source.search(
      {
        level: 'series',
        match: {},
        studyInstanceUid: study,
        includeFields: [],
        fuzzyMatching: false,
        limit: 10_000,
        offset: 0,
      },
      signal,
    );
    const series = seriesUids(source, listed);
    if (series.length === 0) throw new SourceError(source.id, 'not-found', `study ${study} has no series`);

    for (const seriesInstanceUid of series) {
      const seriesKey = { sourceId: source.id, studyInstanceUid: study, seriesInstanceUid };
      const cached = await cache.cachedSeries(seriesKey);
      if (cached && (await countCached(cached, progress))) {
        await report(true);
        continue;
      }
      const sops: string[] = [];
      for await (const file of source.retrieve({ studyInstanceUid: study, seriesInstanceUid }, signal)) {
        // Upstream UIDs become cache paths: validated like client input (as the front does).
        const sop = dicomUidSchema.safeParse(file.sopInstanceUid);
        if (!sop.success || file.studyInstanceUid !== study || file.seriesInstanceUid !== seriesInstanceUid) {
          file.body.destroy();
          throw new SourceError(source.id, 'refused', 'the source sent an instance with unusable UIDs');
        }
        const bytes = await cache.write({ ...seriesKey, sopInstanceUid: sop.data }, file.body);
        sops.push(sop.data);
        progress.instances += 1;
        progress.bytes += bytes.length;
        await report(false);
      }
      if (sops.length === 0) throw new SourceError(source.id, 'not-found', `series ${seriesInstanceUid} is empty`);
      await cache.rememberSeries(seriesKey, sops);
      await report(true);
    }
  }

  /** Counts a series already whole in the cache (read, which also marks it recently used). */
  async function countCached(keys: readonly InstanceKey[], progress: Progress): Promise<boolean> {
    const found: Progress = { instances: 0, bytes: 0 };
    for (const key of keys) {
      const bytes = await cache.read(key);
      if (!bytes) return false; // evicted or damaged meanwhile: fetch the series again
      found.instances += 1;
      found.bytes += bytes.length;
    }
    progress.instances += found.instances;
    progress.bytes += found.bytes;
    return true;
  }

  async function attempt(claim: StudyPrefetchClaim): Promise<void> {
    const progress: Progress = { instances: 0, bytes: 0 };
    const job = { sessionId: claim.sessionId, studyInstanceUid: claim.studyInstanceUid, attempt: claim.attempt };
    try {
      await prefetch(claim, progress);
      await jobs.complete(claim, progress, now());
      logger.info({ ...job, ...progress }, 'study prefetched');
    } catch (error) {
      if (stop.signal.aborted || error instanceof LeaseLostError) {
        logger.info({ ...job, reason: stop.signal.aborted ? 'closing' : 'lease lost' }, 'study prefetch stopped');
        return;
      }
      const expected = error instanceof SourceError || error instanceof FrontError;
      const message = error instanceof Error ? error.message : String(error);
      const state = await jobs.fail(claim, message, progress, now());
      if (expected) logger.warn({ ...job, error: message, state }, 'study prefetch attempt failed');
      else logger.error({ ...job, err: error, state }, 'study prefetch attempt failed unexpectedly');
    }
  }

  async function worker(): Promise<void> {
    while (!stop.signal.aborted) {
      try {
        const claim = await jobs.claimDue(now());
        if (claim) {
          await attempt(claim);
          continue;
        }
      } catch (error) {
        // Redis away or a bug: never take the proxy down, try again after a pause.
        logger.warn({ err: error }, 'study prefetch: cannot reach the job list');
      }
      await sleep(pollIntervalMs, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  }

  const workers = Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 1, 4)) }, () => worker());
  return {
    async close() {
      stop.abort();
      await Promise.allSettled(workers);
    },
  };
}
