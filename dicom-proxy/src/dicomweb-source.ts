import { Agent, fetch } from 'undici';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { DicomJsonDataset } from './dicom-json.ts';
import { readInstanceIdentity } from './part10-identity.ts';
import { MultipartError, multipartBoundary, readMultipartRelated } from './multipart-related-reader.ts';
import { SourceError, type InstanceFile, type StudyQuery, type StudySource } from './study-source.ts';

/**
 * A DICOMweb PACS (QIDO-RS / WADO-RS), e.g. Orthanc with its DICOMweb plugin, as a StudySource.
 * Only validated, re-encoded values reach the upstream: UIDs are checked again here, query keys
 * must be keywords or tags, and every URL is built with URL/URLSearchParams.
 */

export const dicomWebSourceConfigSchema = z.object({
  id: z.string().min(1).max(64),
  /** DICOMweb root, e.g. `http://127.0.0.1:8043/dicom-web/`. */
  url: z.url({ protocol: /^https?$/ }),
  /** How long to wait for the response headers, and at most between two body chunks. */
  timeoutMs: z.number().int().positive().max(600_000).default(30_000),
  /** Largest single instance accepted from the upstream. */
  maxInstanceBytes: z
    .number()
    .int()
    .positive()
    .default(2 * 1024 ** 3),
});
export type DicomWebSourceConfig = z.input<typeof dicomWebSourceConfigSchema>;

const uidSchema = z
  .string()
  .regex(/^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/)
  .max(64);
const attributeNameSchema = z.string().regex(/^([A-Za-z][A-Za-z0-9]{0,63}|[0-9A-Fa-f]{8})$/);
const datasetsSchema = z.array(z.record(z.string(), z.looseObject({ vr: z.string() })));

const DICOM_JSON = 'application/dicom+json';
const MULTIPART_DICOM = 'multipart/related; type="application/dicom"; transfer-syntax=*';

export function createDicomWebSource(input: DicomWebSourceConfig): StudySource {
  const config = dicomWebSourceConfigSchema.parse(input);
  const root = new URL(config.url.endsWith('/') ? config.url : `${config.url}/`);
  // The npm undici 8 with its own connection pool: Node 24's bundled client (undici 7) crashes the
  // process with an uncatchable assertion when a response body paused by backpressure meets the
  // PACS closing the connection (nodejs/undici#5360, fixed in 8). The dispatcher must be passed
  // explicitly, or undici's fetch would reuse the process-wide (bundled) one.
  const dispatcher = new Agent({ keepAliveTimeout: 10_000 });

  /** `segments` are UIDs or fixed words: each is validated and percent-encoded. */
  const endpoint = (segments: string[]): URL =>
    new URL(segments.map((segment) => encodeURIComponent(segment)).join('/'), root);

  /**
   * A GET whose timer restarts with every body chunk; the caller's signal aborts it too. The
   * returned `touch` must be called per chunk, `done` once the body is consumed.
   */
  const request = async (url: URL, accept: string, signal?: AbortSignal) => {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const touch = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => controller.abort(new SourceError(config.id, 'timeout', `no answer from ${url.origin}`)),
        config.timeoutMs,
      );
    };
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    touch();
    try {
      // Identity encoding: a gzip'd body would have to be decoded before the multipart scan.
      const response = await fetch(url, {
        headers: { Accept: accept, 'Accept-Encoding': 'identity' },
        signal: controller.signal,
        dispatcher,
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw statusError(config.id, response.status, url);
      }
      return { response, touch, done, controller };
    } catch (error) {
      done();
      throw mapFetchError(config.id, error, controller.signal, url);
    }
  };

  return {
    id: config.id,

    async echo(signal) {
      const url = endpoint(['studies']);
      url.searchParams.set('limit', '1');
      const { response, done } = await request(url, DICOM_JSON, signal);
      await response.body?.cancel();
      done();
    },

    async search(query, signal) {
      const url = searchUrl(query, endpoint);
      const { response, done, controller } = await request(url, DICOM_JSON, signal);
      try {
        if (response.status === 204) return [];
        const text = await response.text();
        if (text.trim() === '') return [];
        const parsed = datasetsSchema.safeParse(JSON.parse(text));
        if (!parsed.success) throw new SourceError(config.id, 'unavailable', 'the PACS answered no DICOM JSON array');
        return parsed.data as DicomJsonDataset[];
      } catch (error) {
        if (error instanceof SourceError) throw error;
        throw mapFetchError(config.id, error, controller.signal, url);
      } finally {
        done();
      }
    },

    async *retrieve(scope, signal) {
      const segments = ['studies', uidSchema.parse(scope.studyInstanceUid)];
      if (scope.seriesInstanceUid) segments.push('series', uidSchema.parse(scope.seriesInstanceUid));
      if (scope.sopInstanceUid) {
        if (!scope.seriesInstanceUid) throw new TypeError('an instance is retrieved within its series');
        segments.push('instances', uidSchema.parse(scope.sopInstanceUid));
      }
      const url = endpoint(segments);
      const { response, touch, done, controller } = await request(url, MULTIPART_DICOM, signal);
      try {
        const boundary = multipartBoundary(response.headers.get('content-type'));
        if (!boundary || !response.body) {
          throw new SourceError(
            config.id,
            'unavailable',
            `the PACS answered no multipart/related body for ${url.pathname}`,
          );
        }
        const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
        body.on('data', touch);
        for await (const part of readMultipartRelated(body, boundary, { maxPartBytes: config.maxInstanceBytes })) {
          yield instanceFile(config.id, part.chunks, part.size, scope);
        }
      } catch (error) {
        if (error instanceof SourceError) throw error;
        if (error instanceof MultipartError)
          throw new SourceError(config.id, 'unavailable', error.message, { cause: error });
        throw mapFetchError(config.id, error, controller.signal, url);
      } finally {
        // Also reached when the consumer stops early: the rest of the body is not wanted.
        controller.abort();
        done();
      }
    },

    async close() {
      await dispatcher.close();
    },
  };
}

function searchUrl(query: StudyQuery, endpoint: (segments: string[]) => URL): URL {
  const segments: string[] = [];
  if (query.studyInstanceUid && query.level !== 'study')
    segments.push('studies', uidSchema.parse(query.studyInstanceUid));
  if (query.seriesInstanceUid && query.level === 'instance')
    segments.push('series', uidSchema.parse(query.seriesInstanceUid));
  segments.push(query.level === 'study' ? 'studies' : query.level === 'series' ? 'series' : 'instances');
  const url = endpoint(segments);
  const params = url.searchParams;
  if (query.level === 'study' && query.studyInstanceUid)
    params.set('StudyInstanceUID', uidSchema.parse(query.studyInstanceUid));
  if (query.level === 'series' && query.seriesInstanceUid) {
    params.set('SeriesInstanceUID', uidSchema.parse(query.seriesInstanceUid));
  }
  for (const [key, value] of Object.entries(query.match))
    params.append(attributeNameSchema.parse(key), z.string().max(1024).parse(value));
  if (query.includeFields === 'all') params.set('includefield', 'all');
  else for (const field of query.includeFields) params.append('includefield', attributeNameSchema.parse(field));
  if (query.fuzzyMatching) params.set('fuzzymatching', 'true');
  params.set('limit', String(z.number().int().min(0).max(100_000).parse(query.limit)));
  params.set('offset', String(z.number().int().min(0).parse(query.offset)));
  return url;
}

/** The UIDs come from the file itself: a study retrieve does not say which part is which. */
function instanceFile(
  sourceId: string,
  chunks: Buffer[],
  size: number,
  scope: { studyInstanceUid: string; seriesInstanceUid?: string; sopInstanceUid?: string },
): InstanceFile {
  let identity;
  try {
    identity = readInstanceIdentity(chunks, size);
  } catch (cause) {
    throw new SourceError(sourceId, 'unavailable', 'the PACS sent a part that is no DICOM file', { cause });
  }
  const sopInstanceUid = identity.sopInstanceUid ?? scope.sopInstanceUid;
  const seriesInstanceUid = identity.seriesInstanceUid ?? scope.seriesInstanceUid;
  const studyInstanceUid = identity.studyInstanceUid ?? scope.studyInstanceUid;
  if (!sopInstanceUid || !seriesInstanceUid) {
    throw new SourceError(sourceId, 'unavailable', 'the PACS sent an instance without its UIDs');
  }
  return { studyInstanceUid, seriesInstanceUid, sopInstanceUid, body: Readable.from(chunks) };
}

function statusError(sourceId: string, status: number, url: URL): SourceError {
  const where = `${url.origin}${url.pathname}`;
  if (status === 404) return new SourceError(sourceId, 'not-found', `not found at ${where}`);
  if (status === 401 || status === 403) return new SourceError(sourceId, 'refused', `HTTP ${status} from ${where}`);
  if (status === 504 || status === 408) return new SourceError(sourceId, 'timeout', `HTTP ${status} from ${where}`);
  return new SourceError(sourceId, 'unavailable', `HTTP ${status} from ${where}`);
}

function mapFetchError(sourceId: string, error: unknown, signal: AbortSignal, url: URL): unknown {
  if (error instanceof SourceError) return error;
  if (signal.aborted && signal.reason instanceof SourceError) return signal.reason;
  if (signal.aborted) return signal.reason ?? error; // the caller gave up: not the PACS's fault
  return new SourceError(sourceId, 'unavailable', `${url.origin} cannot be reached`, { cause: error });
}
