import { http, https } from '@telemed/contract/node-http';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { DicomJsonDataset } from './dicom-json.ts';
import { readInstanceIdentity } from './part10-identity.ts';
import {
  MultipartError,
  MultipartScanner,
  multipartBoundary,
  readMultipartRelated,
  type MultipartPart,
} from './multipart-related-reader.ts';
import { HttpResponseError, streamedGet } from './streamed-http-get.ts';
import { BlockPool, PooledBytesStream } from './pooled-bytes.ts';
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
/** QIDO answers are read whole: far more than any sane result page. */
const MAX_JSON_BYTES = 256 * 1024 ** 2;
const MULTIPART_DICOM = 'multipart/related; type="application/dicom"; transfer-syntax=*';

export interface DicomWebSourceOptions {
  /** Blocks the instances are read into (the cache takes them over without a copy). */
  pool?: BlockPool;
}

export function createDicomWebSource(input: DicomWebSourceConfig, options: DicomWebSourceOptions = {}): StudySource {
  const config = dicomWebSourceConfigSchema.parse(input);
  // Without one (tests, tools) the bytes are copied into blocks of a pool that keeps none.
  const pool = options.pool ?? new BlockPool({ maxIdleBytes: 0 });
  const root = new URL(config.url.endsWith('/') ? config.url : `${config.url}/`);
  // node:http rather than fetch: its parser is native (undici's is WebAssembly, ~16 MB of the
  // proxy's 150 MB budget), the body is a Node stream with no web-stream adapter in the way, and
  // Node 24's bundled fetch crashes the process when a body paused by backpressure meets the PACS
  // closing the connection (nodejs/undici#5360). One keep-alive pool per source.
  const secure = root.protocol === 'https:';
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: 16 })
    : new http.Agent({ keepAlive: true, maxSockets: 16 });

  /** `segments` are UIDs or fixed words: each is validated and percent-encoded. */
  const endpoint = (segments: string[]): URL =>
    new URL(segments.map((segment) => encodeURIComponent(segment)).join('/'), root);

  /**
   * A GET answered 2xx, its body not yet read. The socket's idle limit covers both the wait for
   * the headers and every pause between body chunks; a timeout or the caller's `signal` destroys
   * the body with the matching error.
   */
  const request = (url: URL, accept: string, signal?: AbortSignal) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      // Identity encoding: a gzip'd body would have to be decoded before the multipart scan.
      const outgoing = (secure ? https : http).request(url, {
        agent,
        headers: { Accept: accept, 'Accept-Encoding': 'identity' },
      });
      let failure: unknown;
      const fail = (error: unknown) => {
        failure ??= error;
        outgoing.destroy(failure as Error);
      };
      const onAbort = () => fail(signal?.reason ?? new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const forget = () => signal?.removeEventListener('abort', onAbort);
      outgoing.setTimeout(config.timeoutMs, () =>
        fail(new SourceError(config.id, 'timeout', `no answer from ${url.origin} within ${config.timeoutMs} ms`)),
      );
      outgoing.once('error', (error) => {
        forget();
        reject(failure instanceof SourceError || signal?.aborted ? failure : mapRequestError(config.id, error, url));
      });
      outgoing.once('response', (response) => {
        const status = response.statusCode ?? 0;
        if (status < 200 || status > 299) {
          response.resume();
          forget();
          reject(statusError(config.id, status, url));
          return;
        }
        response.once('close', forget);
        // A failure after the headers (timeout, abort, the PACS going away) surfaces on the body,
        // to whoever reads it; the listener keeps an unread body's error from being unhandled.
        response.on('error', () => undefined);
        outgoing.on('error', (error) => response.destroy(error));
        resolve(response);
      });
      outgoing.end();
    });

  /** A body read whole (QIDO JSON), at most `limit` bytes. */
  const readText = async (body: IncomingMessage, limit: number): Promise<string> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        body.destroy();
        throw new SourceError(config.id, 'unavailable', `the PACS answered more than ${limit} bytes of JSON`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  };

  const bodyError = (error: unknown, url: URL, signal?: AbortSignal): unknown => {
    if (error instanceof SourceError) return error;
    if (signal?.aborted) return signal.reason ?? error; // the caller gave up: not the PACS's fault
    return mapRequestError(config.id, error, url);
  };

  return {
    id: config.id,

    async echo(signal) {
      const url = endpoint(['studies']);
      url.searchParams.set('limit', '1');
      const response = await request(url, DICOM_JSON, signal);
      response.resume();
    },

    async search(query, signal) {
      const url = searchUrl(query, endpoint);
      const response = await request(url, DICOM_JSON, signal);
      try {
        if (response.statusCode === 204) {
          response.resume();
          return [];
        }
        const text = await readText(response, MAX_JSON_BYTES);
        if (text.trim() === '') return [];
        const parsed = datasetsSchema.safeParse(JSON.parse(text));
        if (!parsed.success) throw new SourceError(config.id, 'unavailable', 'the PACS answered no DICOM JSON array');
        return parsed.data as DicomJsonDataset[];
      } catch (error) {
        if (error instanceof SyntaxError)
          throw new SourceError(config.id, 'unavailable', 'the PACS answered malformed JSON');
        throw bodyError(error, url, signal);
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
      const noMultipart = () =>
        new SourceError(config.id, 'unavailable', `the PACS answered no multipart/related body for ${url.pathname}`);
      const partOptions = { maxPartBytes: config.maxInstanceBytes, pool };
      try {
        if (scope.sopInstanceUid) {
          // One instance: node:http, whose keep-alive pool spares the connection setup per instance.
          const response = await request(url, MULTIPART_DICOM, signal);
          try {
            const boundary = multipartBoundary(response.headers['content-type'] ?? null);
            if (!boundary) throw noMultipart();
            for await (const part of readMultipartRelated(response, boundary, partOptions)) {
              yield instanceFile(config.id, part, scope);
            }
          } finally {
            // Also reached when the consumer stops early: the rest of the body is not wanted.
            if (!response.complete) response.destroy();
          }
          return;
        }
        // Many instances: read into one reused buffer (streamed-http-get.ts says why).
        const parts = streamedGet(
          url,
          {
            headers: { Accept: MULTIPART_DICOM, 'Accept-Encoding': 'identity' },
            timeoutMs: config.timeoutMs,
            timeoutError: () =>
              new SourceError(config.id, 'timeout', `no answer from ${url.origin} within ${config.timeoutMs} ms`),
            ...(signal ? { signal } : {}),
          },
          ({ status, headers }) => {
            if (status < 200 || status > 299) throw statusError(config.id, status, url);
            const boundary = multipartBoundary(headers['content-type'] ?? null);
            if (!boundary) throw noMultipart();
            return new MultipartScanner(boundary, partOptions);
          },
        );
        for await (const part of parts) yield instanceFile(config.id, part, scope);
      } catch (error) {
        if (error instanceof MultipartError || error instanceof HttpResponseError)
          throw new SourceError(config.id, 'unavailable', error.message, { cause: error });
        throw bodyError(error, url, signal);
      }
    },

    async close() {
      agent.destroy();
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

/**
 * The UIDs come from the file itself: a study retrieve does not say which part is which. The body
 * hands the part's pooled bytes on (the part is released with it, or here when it is unusable).
 */
function instanceFile(
  sourceId: string,
  part: MultipartPart,
  scope: { studyInstanceUid: string; seriesInstanceUid?: string; sopInstanceUid?: string },
): InstanceFile {
  let identity;
  try {
    identity = readInstanceIdentity(part.bytes.chunks, part.bytes.size);
  } catch (cause) {
    part.release();
    throw new SourceError(sourceId, 'unavailable', 'the PACS sent a part that is no DICOM file', { cause });
  }
  const sopInstanceUid = identity.sopInstanceUid ?? scope.sopInstanceUid;
  const seriesInstanceUid = identity.seriesInstanceUid ?? scope.seriesInstanceUid;
  const studyInstanceUid = identity.studyInstanceUid ?? scope.studyInstanceUid;
  if (!sopInstanceUid || !seriesInstanceUid) {
    part.release();
    throw new SourceError(sourceId, 'unavailable', 'the PACS sent an instance without its UIDs');
  }
  return { studyInstanceUid, seriesInstanceUid, sopInstanceUid, body: new PooledBytesStream(part) };
}

function statusError(sourceId: string, status: number, url: URL): SourceError {
  const where = `${url.origin}${url.pathname}`;
  if (status === 404) return new SourceError(sourceId, 'not-found', `not found at ${where}`);
  if (status === 401 || status === 403) return new SourceError(sourceId, 'refused', `HTTP ${status} from ${where}`);
  if (status === 504 || status === 408) return new SourceError(sourceId, 'timeout', `HTTP ${status} from ${where}`);
  return new SourceError(sourceId, 'unavailable', `HTTP ${status} from ${where}`);
}

function mapRequestError(sourceId: string, error: unknown, url: URL): SourceError {
  if (error instanceof SourceError) return error;
  return new SourceError(sourceId, 'unavailable', `${url.origin} cannot be reached`, { cause: error });
}
