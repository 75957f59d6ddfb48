import type { IncomingMessage, ServerResponse } from 'node:http';
import { http } from '@telemed/contract/node-http';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { listen } from '@telemed/contract/server';
import type { RedisClient } from '@telemed/domain/redis';
import type { DicomProxyConfig, SourceSetting } from './config.ts';
import { createDicomWebSource } from './dicomweb-source.ts';
import { createDicomWebFront, type Deidentifier } from './dicomweb-front.ts';
import { createDeidentifier, deidentificationKey } from './deidentified-study.ts';
import { FrontError } from './front-errors.ts';
import { ImageAudit } from './image-audit.ts';
import { ImagingAccessError, authorizeImagingRequest, type ImagingAccess } from './imaging-access.ts';
import { InstanceCache } from './instance-cache.ts';
import { BlockPool } from './pooled-bytes.ts';
import { StudyLocator } from './study-locator.ts';
import type { StudySource } from './study-source.ts';

export interface DicomProxyService {
  port: number;
  close(): Promise<void>;
}

/** Seams for what the configuration cannot express (and for tests). */
export interface DicomProxyServiceOptions {
  /** Builds a source from its setting; the default knows DICOMweb and DIMSE (C-GET or C-MOVE) sources. */
  createSource?(setting: SourceSetting, timeoutMs: number): StudySource;
  /** Replaces token verification (the default checks `Authorization: Bearer` with AUTH_SECRET). */
  authorize?(request: IncomingMessage): Promise<ImagingAccess>;
  deidentifier?: Deidentifier;
}

/**
 * Released blocks the proxy keeps for reuse: more than a whole-series retrieve holds at once
 * (cache writes behind and cache reads ahead of the instance being sent, the client's socket
 * queue), so a retrieve in the steady state allocates none.
 */
const poolIdleBytes = 24 * 1024 ** 2;

async function defaultSource(setting: SourceSetting, config: DicomProxyConfig, pool: BlockPool): Promise<StudySource> {
  const timeoutMs = config.DICOM_UPSTREAM_TIMEOUT_MS;
  if (setting.kind === 'dicomweb')
    return createDicomWebSource({ id: setting.id, url: setting.url, timeoutMs }, { pool });
  // Loaded only when a DIMSE peer is configured: dcmjs-dimse is large and most sites speak DICOMweb.
  const { DimseSource } = await import('./dimse-source.ts');
  return new DimseSource({ ...setting, timeoutMs, storeDirectory: join(config.DICOM_CACHE_DIR, '.dimse-in-transit') });
}

async function sourcesHealth(sources: readonly StudySource[]) {
  return Promise.all(
    sources.map(async (source) => {
      try {
        await source.echo(AbortSignal.timeout(5_000));
        return { id: source.id, ok: true };
      } catch (error) {
        return { id: source.id, ok: false, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
}

/**
 * The only door to hospital PACS images: DICOMweb for the viewer under `/dicom-web/` (QIDO-RS,
 * WADO-RS through the disk cache), `/healthz` with each source's echo.
 */
export async function startDicomProxyService(
  config: DicomProxyConfig,
  logger: Logger,
  options: DicomProxyServiceOptions = {},
): Promise<DicomProxyService> {
  // One pool for the blocks instances pass through: read from a source, staged for and read from
  // the cache, queued on a client's socket.
  const pool = new BlockPool({ maxIdleBytes: poolIdleBytes });
  const sources = await Promise.all(
    config.DICOM_SOURCES.map((setting) =>
      options.createSource
        ? options.createSource(setting, config.DICOM_UPSTREAM_TIMEOUT_MS)
        : defaultSource(setting, config, pool),
    ),
  );
  const cache = await InstanceCache.open({
    directory: config.DICOM_CACHE_DIR,
    maxBytes: config.DICOM_CACHE_MAX_BYTES,
    pool,
  });
  // Only the domain modules the proxy uses: the whole package (accounts, sessions, calendars…)
  // would take ~40 MB of the proxy's 150 MB.
  let redis: RedisClient | undefined;
  if (config.REDIS_URL) {
    const { connectRedis } = await import('@telemed/domain/redis');
    redis = await connectRedis(config.REDIS_URL, (error) => logger.warn({ err: error }, 'redis'));
  }
  const audit =
    redis && config.DICOM_AUDIT === 'redis'
      ? new ImageAudit(new (await import('@telemed/domain/audit-log')).AuditLog(redis), logger)
      : undefined;
  if (!audit) logger.warn('DICOM_AUDIT=off: image accesses are NOT audited (development and benchmarks only)');
  const secret = config.AUTH_SECRET;
  const authorize =
    options.authorize ??
    (async (request: IncomingMessage) => {
      // Without a secret no token can be checked: every request is refused.
      if (!secret) throw new ImagingAccessError('invalid');
      return authorizeImagingRequest(request.headers, secret);
    });
  const front = createDicomWebFront({
    sources,
    locator: new StudyLocator(sources),
    cache,
    authorize,
    ...(audit ? { audit } : {}),
    // Without a secret nothing is authorized, so there is nothing to de-identify either.
    ...(options.deidentifier || secret
      ? { deidentifier: options.deidentifier ?? createDeidentifier(deidentificationKey(secret ?? '')) }
      : {}),
    ...(config.DICOM_PROXY_PUBLIC_URL ? { publicUrl: config.DICOM_PROXY_PUBLIC_URL } : {}),
  });

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method === 'GET' && request.url === '/healthz') {
      const health = await sourcesHealth(sources);
      // Healthy while any source answers (or none is configured): the cache still serves the rest.
      const healthy = sources.length === 0 || health.some((source) => source.ok);
      response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: healthy ? 'ok' : 'degraded', service: 'dicom-proxy', sources: health }));
      return;
    }
    if (await front(request, response)) return;
    const error = new FrontError(404, 'not_found', 'not found');
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: { code: error.code, message: error.message } }));
  }

  const server = http.createServer((request, response) => {
    answer(request, response).catch((error: unknown) => {
      logger.error({ err: error, url: request.url }, 'request failed');
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code: 'internal', message: 'internal error' } }));
    });
  });
  const port = await listen(server, config.DICOM_PROXY_PORT, config.DICOM_PROXY_HOST);
  logger.info({ port, sources: sources.map((source) => source.id) }, 'dicom-proxy listening');
  // Prefetch jobs live in Redis: without it there is nothing to prefetch.
  const prefetcher = redis
    ? (await import('./study-prefetcher.ts')).startStudyPrefetcher({
        jobs: new (await import('@telemed/domain/study-prefetch')).StudyPrefetchQueue(redis, logger),
        locator: new StudyLocator(sources),
        cache,
        logger,
        concurrency: 2,
      })
    : undefined;
  return {
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await prefetcher?.close();
      await Promise.allSettled(sources.map((source) => source.close()));
      if (redis) await redis.quit().catch(() => undefined);
    },
  };
}
