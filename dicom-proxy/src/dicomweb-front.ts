import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
// The records module alone: the package index would load all of the domain (accounts, calendars…).
import { dicomUidSchema } from '@telemed/domain/records';
import { DeidentificationRefusal } from './deidentification.ts';
import { DeidentifiedUidResolver, type Deidentifier, type SessionDeidentifier } from './deidentified-study.ts';
import type { DicomJsonDataset } from './dicom-json.ts';
import { FrameDecodingError, decodableTransferSyntaxes, transcodeFrameToNative } from './frame-transcoding.ts';
import { FrontError, frontErrorOf, sendFrontError } from './front-errors.ts';
import type { ImageAudit, ImageAuditAction, TrackedImageAccess } from './image-audit.ts';
import type { ImagingAccess, StudyGrant } from './imaging-access.ts';
import type { InstanceCache, InstanceKey } from './instance-cache.ts';
import { MultipartRelatedWriter } from './multipart-writer.ts';
import { PooledBytes, pooledBytesFor, type HeldBytes } from './pooled-bytes.ts';
import { readInstanceIdentity } from './part10-identity.ts';
import {
  Part10Error,
  Part10Instance,
  explicitVrLittleEndian,
  implicitVrLittleEndian,
  isEncapsulatedSyntax,
} from './part10-instance.ts';
import {
  ImageRenderingError,
  parseRenderingParameters,
  renderFrame,
  renderedMediaTypes,
  type RenderedImage,
  type RenderedMediaType,
  type RenderingParameters,
} from './rendered-image.ts';
import { SourceError, type QueryLevel, type StudyQuery, type StudySource } from './study-source.ts';
import type { StudyLocator } from './study-locator.ts';

/**
 * The DICOMweb face of the proxy for the viewer (Cornerstone3D's `wadors:` loader): QIDO-RS
 * searches and WADO-RS retrieves under `/dicom-web/`, every instance passing through the disk
 * cache (retrieve → cache → client), every request authorized by its bearer token and audited.
 */

export type { Deidentifier } from './deidentified-study.ts';

export interface DicomWebFrontOptions {
  sources: readonly StudySource[];
  locator: StudyLocator;
  cache: InstanceCache;
  /** Verifies the request's token (throws ImagingAccessError → 401). */
  authorize(request: IncomingMessage): Promise<ImagingAccess>;
  audit?: ImageAudit;
  /** Without it, studies granted only de-identified are refused (fail closed). */
  deidentifier?: Deidentifier;
  /** Public DICOMweb root for BulkDataURIs, e.g. `https://pacs.example.jp/dicom-web`; else from the Host header. */
  publicUrl?: string;
}

const ROOT = '/dicom-web';
const maxFramesPerRequest = 1_000;
const searchLimitMax = 1_000;
/** Most series in a study / instances in a series looked through to resolve a remapped UID. */
const candidateLimit = 100_000;
/**
 * Bytes of instances being written to the cache behind a retrieve, and of cached instances read
 * ahead of the one being sent (at least one instance either way, whatever its size): enough to
 * keep the disk and the socket busy at once, little enough for the proxy's 150 MB budget.
 */
const cacheWritesInFlightBytes = 8 * 1024 ** 2;
const cacheReadAheadBytes = 4 * 1024 ** 2;
/** Outside the pixel module, bulk data (private blobs, overlays, documents) may name the patient. */
const deidentifiedBulkTag = /^(7FE0|0028)[0-9A-F]{4}$/;
/** Series of a study looked into for a study thumbnail before giving up (404). */
const thumbnailSeriesTried = 5;
/** Modalities of series without images, passed over for a study thumbnail. */
const imagelessModalities = new Set(['SR', 'KO', 'PR', 'DOC', 'RTPLAN', 'RTSTRUCT', 'RTRECORD', 'REG', 'ECG', 'HD']);
/**
 * Rendered images name immutable instances; `private` keeps them out of shared caches, the hour
 * bounds how long a browser keeps one after the session ends. They differ by Accept and token.
 */
const renderedCacheHeaders = { 'cache-control': 'private, max-age=3600', vary: 'Accept, Authorization' };

interface StudyAccess {
  grant: StudyGrant;
  /** Set when the study is served de-identified to this token. */
  session?: SessionDeidentifier;
}

const uid = dicomUidSchema;
const keySchema = z.string().regex(/^([A-Za-z][A-Za-z0-9]{0,63}|[0-9A-Fa-f]{8})$/, 'a keyword or an 8-digit tag');
const matchValueSchema = z.string().max(256);
const uidKeys = new Set([
  'StudyInstanceUID',
  '0020000D',
  'SeriesInstanceUID',
  '0020000E',
  'SOPInstanceUID',
  '00080018',
  'SOPClassUID',
  '00080016',
]);
const bulkPathSchema = z.string().regex(/^[0-9A-Fa-f]{8}(\/\d{1,6}\/[0-9A-Fa-f]{8}){0,8}$/, 'a bulk data path');
const frameListSchema = z
  .string()
  .regex(/^[1-9]\d{0,8}(,[1-9]\d{0,8})*$/, 'frame numbers such as 1,2,3')
  .transform((list) => list.split(',').map(Number))
  .refine((frames) => frames.length <= maxFramesPerRequest, `at most ${maxFramesPerRequest} frames`);

interface Route {
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  /**
   * What follows the identified object: '', 'series', 'instances', 'metadata', 'frames', 'bulk',
   * 'rendered', 'thumbnail' (the last two also after `frames/{n}`, with `frames` set).
   */
  tail: string;
  frames?: number[];
  bulkPath?: string;
}

/** `/studies/{s}[/series/{se}[/instances/{i}]][/tail…]`, each UID validated before use. */
function parseRoute(path: string): Route | undefined {
  const parts = path.split('/').filter((part) => part !== '');
  if (parts[0] !== 'studies') return undefined;
  const route: Route = { tail: '' };
  let at = 1;
  const take = (word: string, field: 'studyInstanceUid' | 'seriesInstanceUid' | 'sopInstanceUid'): boolean => {
    if (parts[at] !== word && word !== 'studies') return false;
    const value = parts[word === 'studies' ? at : at + 1];
    if (value === undefined) return false;
    route[field] = uid.parse(value); // not URL-decoded: a UID has no character that needs it
    at += word === 'studies' ? 1 : 2;
    return true;
  };
  if (parts.length === 1) return route;
  take('studies', 'studyInstanceUid');
  if (parts[at] === 'series' && parts[at + 1] !== undefined) take('series', 'seriesInstanceUid');
  if (parts[at] === 'instances' && parts[at + 1] !== undefined) take('instances', 'sopInstanceUid');
  const rest = parts.slice(at);
  route.tail = rest[0] ?? '';
  if (route.tail === 'frames') {
    if (!route.sopInstanceUid) return undefined;
    const image = rest[2];
    if (rest.length === 3 && (image === 'rendered' || image === 'thumbnail')) route.tail = image;
    else if (rest.length !== 2) return undefined;
    route.frames = frameListSchema.parse(rest[1] ?? '');
    return route;
  }
  if (route.tail === 'bulk') {
    if (!route.sopInstanceUid) return undefined;
    route.bulkPath = bulkPathSchema.parse(rest.slice(1).join('/'));
    return route;
  }
  return rest.length <= 1 ? route : undefined;
}

const personNameKeys = new Set(['PatientName', '00100010', 'ReferringPhysicianName', '00080090']);

/**
 * Fuzzy matching of a person name (PS3.18 §8.3.4.1 leaves the method to the origin server). The
 * PACS behind the proxy rarely does it (Orthanc ignores the parameter, C-FIND has none), so the
 * proxy asks every source the same way: the words typed, in order, anywhere in the name (in
 * whichever of its alphabetic, kanji or kana forms the PACS matches; case-insensitively where
 * it matches so). A value with wildcards of its own is left as it is.
 */
export function fuzzyPersonName(value: string): string {
  if (/[*?]/.test(value)) return value;
  const words = value.split(/[\s\u3000^=,、]+/u).filter(Boolean);
  return words.length === 0 ? value : `*${words.join('*')}*`;
}

/** The QIDO-RS query parameters (PS3.18 §8.3.4), validated. */
function parseSearch(params: URLSearchParams, level: QueryLevel, route: Route): StudyQuery {
  const match: Record<string, string> = {};
  const includeFields: string[] = [];
  let includeAll = false;
  let limit = 100;
  let offset = 0;
  let fuzzyMatching = false;
  for (const [name, value] of params) {
    if (name === 'includefield') {
      for (const field of value.split(',')) {
        if (field === 'all') includeAll = true;
        else includeFields.push(keySchema.parse(field));
      }
    } else if (name === 'limit') limit = z.coerce.number().int().min(1).max(searchLimitMax).parse(value);
    else if (name === 'offset') offset = z.coerce.number().int().min(0).max(1_000_000).parse(value);
    else if (name === 'fuzzymatching') fuzzyMatching = z.enum(['true', 'false']).parse(value) === 'true';
    else {
      const key = keySchema.parse(name);
      const matchValue = matchValueSchema.parse(value);
      // UID list matching: every listed UID must itself be a UID.
      if (uidKeys.has(key)) for (const listed of matchValue.split(/[\\,]/)) uid.parse(listed);
      match[key] = matchValue;
    }
  }
  if (fuzzyMatching) {
    for (const key of Object.keys(match)) {
      if (personNameKeys.has(key)) match[key] = fuzzyPersonName(match[key]!);
    }
  }
  return {
    level,
    match,
    ...(route.studyInstanceUid ? { studyInstanceUid: route.studyInstanceUid } : {}),
    ...(route.seriesInstanceUid ? { seriesInstanceUid: route.seriesInstanceUid } : {}),
    includeFields: includeAll ? 'all' : includeFields,
    fuzzyMatching,
    limit,
    offset,
  };
}

/**
 * One instance of a retrieve, in pooled blocks (never concatenated on the way through): whoever
 * takes it calls `release` once done with the bytes (or hands that on, e.g. to the socket write).
 */
interface InstanceInScope extends HeldBytes {
  key: InstanceKey;
}

/** The instance in one buffer of its own (parsed, re-encoded…); its pooled blocks are released. */
function wholeInstance(instance: InstanceInScope): Uint8Array {
  try {
    return instance.bytes.copy();
  } finally {
    instance.release();
  }
}

/** Bytes already in one buffer of their own, as the front hands instances on. */
function heldBytes(bytes: Uint8Array): HeldBytes {
  return PooledBytes.of(bytes).held();
}

/** Whether a cache write went well (a failed one only costs a later miss). */
function settled(stored: Promise<void>): Promise<boolean> {
  return stored.then(
    () => true,
    () => false,
  );
}

function firstString(dataset: DicomJsonDataset, tag: string): string | undefined {
  const value = dataset[tag]?.Value?.[0];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The UIDs (`uidTag`) of search results in the order of a number attribute (`numberTag`, e.g.
 * Instance Number), those without one last; results whose UID is not one are dropped (upstream
 * data: the UID becomes a cache path).
 */
function byNumber(datasets: DicomJsonDataset[], numberTag: string, uidTag: string): string[] {
  const ranked = datasets.flatMap((dataset) => {
    const found = uid.safeParse(firstString(dataset, uidTag));
    if (!found.success) return [];
    const value = Number(dataset[numberTag]?.Value?.[0] ?? Number.NaN);
    return [{ uid: found.data, rank: Number.isFinite(value) ? value : Number.POSITIVE_INFINITY }];
  });
  ranked.sort((a, b) => (a.rank === b.rank ? 0 : a.rank < b.rank ? -1 : 1));
  return ranked.map((entry) => entry.uid);
}

interface MediaRange {
  type: string;
  params: Map<string, string>;
}

function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [];
  return header.split(',').map((range) => {
    const [type = '', ...params] = range.split(';').map((part) => part.trim());
    const map = new Map<string, string>();
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq > 0)
        map.set(
          param.slice(0, eq).trim().toLowerCase(),
          param
            .slice(eq + 1)
            .trim()
            .replace(/^"|"$/g, ''),
        );
    }
    return { type: type.toLowerCase(), params: map };
  });
}

/**
 * The transfer syntax to send frames in (PS3.18 §8.7.3.5): the stored one when accepted (`*` or
 * the same UID); native pixels in any little endian uncompressed syntax asked for, decoded first
 * when stored in a syntax dcmjs-codecs decodes (frame-transcoding.ts); else 406. Ranges are taken
 * in the order listed.
 */
export function frameTransferSyntax(accept: string | undefined, stored: string): string {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return stored;
  const nativeAvailable = stored === explicitVrLittleEndian || decodableTransferSyntaxes.has(stored);
  for (const { type, params } of ranges) {
    const partType = params.get('type')?.toLowerCase();
    const multipartOctets =
      type === 'multipart/related' && (partType === undefined || partType === 'application/octet-stream');
    if (!(type === '*/*' || multipartOctets)) continue;
    // Without a transfer-syntax parameter the default for octet-stream frames is explicit VR little endian.
    const wanted = params.get('transfer-syntax') ?? (type === '*/*' ? '*' : explicitVrLittleEndian);
    if (wanted === '*' || wanted === stored) return stored;
    if (nativeAvailable && (wanted === explicitVrLittleEndian || wanted === implicitVrLittleEndian)) return wanted;
  }
  const alternatives = nativeAvailable ? `, transfer-syntax=*, or ${explicitVrLittleEndian}` : ' or transfer-syntax=*';
  throw new FrontError(406, 'not_acceptable', `frames are stored as ${stored}; ask for it${alternatives}`);
}

/** Whether a rendered request is answered with several images (a study, a series, several frames). */
function isMultipartRendering(route: Route): boolean {
  if (route.tail !== 'rendered') return false;
  return route.sopInstanceUid ? (route.frames?.length ?? 1) > 1 : true;
}

/**
 * The media type of rendered images (PS3.18 §8.7.4: JPEG is the default; PNG also offered here)
 * from an Accept header or `accept` query parameter, ranges in the order listed. `multipart`
 * answers (a study, a series, several frames) take `multipart/related; type="image/…"`, or a bare
 * image type for the parts; a single image only an image type. Anything else is 406.
 */
export function renderedMediaType(accept: string | undefined, multipart: boolean): RenderedMediaType {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return 'image/jpeg';
  for (const { type, params } of ranges) {
    if (type === 'multipart/related' && !multipart) continue;
    const asked = type === 'multipart/related' ? (params.get('type')?.toLowerCase() ?? 'image/jpeg') : type;
    if (asked === '*/*' || asked === 'image/*') return 'image/jpeg';
    const known = renderedMediaTypes.find((mediaType) => mediaType === asked);
    if (known) return known;
  }
  const offered = renderedMediaTypes.join(' or ');
  throw new FrontError(
    406,
    'not_acceptable',
    multipart ? `rendered images are sent as multipart/related parts of ${offered}` : `rendered images are ${offered}`,
  );
}

/** Whether the client takes a multipart/related answer of `partType` (or anything). */
function acceptsMultipart(accept: string | undefined, partType: string): boolean {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return true;
  return ranges.some(({ type, params }) => {
    const asked = params.get('type')?.toLowerCase();
    return (
      type === '*/*' || (type === 'multipart/related' && (asked === undefined || asked === partType || asked === '*/*'))
    );
  });
}

export function createDicomWebFront(options: DicomWebFrontOptions) {
  const { sources, locator, cache, audit, deidentifier } = options;

  function baseUrl(request: IncomingMessage): string {
    if (options.publicUrl) return options.publicUrl.replace(/\/$/, '');
    const host = request.headers.host;
    // The Host header ends up in BulkDataURIs sent back to the same client; still, only a plain host[:port].
    return host && /^[A-Za-z0-9.\-[\]:]{1,255}$/.test(host) ? `http://${host}${ROOT}` : ROOT;
  }

  const uidResolver = new DeidentifiedUidResolver();

  /**
   * The study's grant, for its original UID or (for a study shared de-identified) its remapped
   * one; `session` is set when answers must be de-identified.
   */
  function studyAccess(access: ImagingAccess, studyInstanceUid: string): StudyAccess {
    let grant = access.studyGrant(studyInstanceUid);
    let session: SessionDeidentifier | undefined;
    if (!grant && deidentifier) {
      session = deidentifier.forSession(access.actor.sessionId);
      for (const candidate of access.studies) {
        if (candidate.deidentify && session.remap(candidate.studyInstanceUid) === studyInstanceUid) grant = candidate;
      }
    }
    if (!grant) throw new FrontError(403, 'forbidden', `study ${studyInstanceUid} is not shared with this token`);
    if (!grant.deidentify) return { grant };
    if (!deidentifier) {
      throw new FrontError(403, 'deidentification_unavailable', 'this study may only be shown de-identified');
    }
    return { grant, session: session ?? deidentifier.forSession(access.actor.sessionId) };
  }

  /** Every series of a study, or every instance of a series, as the source lists them. */
  function searchWithin(
    source: StudySource,
    scope: { studyInstanceUid: string; seriesInstanceUid?: string },
    includeFields: string[],
    signal: AbortSignal,
  ): Promise<DicomJsonDataset[]> {
    const query: StudyQuery = {
      level: scope.seriesInstanceUid ? 'instance' : 'series',
      match: {},
      ...scope,
      includeFields,
      fuzzyMatching: false,
      limit: candidateLimit,
      offset: 0,
    };
    return source.search(query, signal);
  }

  function seriesCandidates(source: StudySource, studyInstanceUid: string, signal: AbortSignal) {
    return async () =>
      (await searchWithin(source, { studyInstanceUid }, [], signal)).flatMap(
        (dataset) => firstString(dataset, '0020000E') ?? [],
      );
  }

  function instanceCandidates(
    source: StudySource,
    studyInstanceUid: string,
    seriesInstanceUid: string,
    signal: AbortSignal,
  ) {
    return async () => {
      // A series retrieved whole is listed in the cache: no need to ask the PACS.
      const cached = await cache.cachedSeries({ sourceId: source.id, studyInstanceUid, seriesInstanceUid });
      if (cached) return cached.map((key) => key.sopInstanceUid);
      const found = await searchWithin(source, { studyInstanceUid, seriesInstanceUid }, [], signal);
      return found.flatMap((dataset) => firstString(dataset, '00080018') ?? []);
    };
  }

  /**
   * The route with original UIDs. In a de-identified study the client names series and instances
   * by their remapped UIDs; one that maps to nothing in the study is unknown (404) and never
   * reaches a source.
   */
  async function resolveRoute(
    route: Route,
    access: ImagingAccess,
    signal: AbortSignal,
  ): Promise<{ route: Route; study: StudyAccess }> {
    const study = studyAccess(access, route.studyInstanceUid ?? '');
    const resolved: Route = { ...route, studyInstanceUid: study.grant.studyInstanceUid };
    const session = study.session;
    if (!session || (!route.seriesInstanceUid && !route.sopInstanceUid)) return { route: resolved, study };
    const studyUid = study.grant.studyInstanceUid;
    const source = await locator.locate(studyUid, signal);
    if (route.seriesInstanceUid) {
      const series = await uidResolver.resolve(
        session,
        studyUid,
        route.seriesInstanceUid,
        seriesCandidates(source, studyUid, signal),
      );
      if (!series) throw new FrontError(404, 'not_found', 'no such series in the study');
      resolved.seriesInstanceUid = series;
      if (route.sopInstanceUid) {
        const sop = await uidResolver.resolve(
          session,
          series,
          route.sopInstanceUid,
          instanceCandidates(source, studyUid, series, signal),
        );
        if (!sop) throw new FrontError(404, 'not_found', 'no such instance in the series');
        resolved.sopInstanceUid = sop;
      }
    }
    return { route: resolved, study };
  }

  /**
   * UID match keys of a search in a de-identified study, from remapped to original; `null` when
   * one names nothing in the study (the answer is then empty).
   */
  async function resolveMatchUids(
    query: StudyQuery,
    study: StudyAccess,
    source: StudySource,
    signal: AbortSignal,
  ): Promise<StudyQuery | null> {
    const session = study.session;
    if (!session) return query;
    const studyUid = study.grant.studyInstanceUid;
    const match = { ...query.match };
    for (const [key, value] of Object.entries(query.match)) {
      if (!uidKeys.has(key) || key === 'SOPClassUID' || key === '00080016') continue;
      const originals: string[] = [];
      for (const listed of value.split(/[\\,]/)) {
        let original: string | null;
        if (key === 'StudyInstanceUID' || key === '0020000D') {
          original = listed === studyUid || listed === session.remap(studyUid) ? studyUid : null;
        } else if (key === 'SeriesInstanceUID' || key === '0020000E') {
          original = await uidResolver.resolve(session, studyUid, listed, seriesCandidates(source, studyUid, signal));
        } else if (query.seriesInstanceUid) {
          original = await uidResolver.resolve(
            session,
            query.seriesInstanceUid,
            listed,
            instanceCandidates(source, studyUid, query.seriesInstanceUid, signal),
          );
        } else {
          throw new FrontError(400, 'bad_request', 'in a de-identified study, match SOPInstanceUID within a series');
        }
        if (original) originals.push(original);
      }
      if (originals.length === 0) return null;
      match[key] = originals.join('\\');
    }
    return { ...query, match };
  }

  /** RetrieveURL pointing at this proxy (a source's own URL names the PACS host). */
  function withRetrieveUrl(request: IncomingMessage, dataset: DicomJsonDataset, level: QueryLevel): DicomJsonDataset {
    const study = firstString(dataset, '0020000D');
    const series = firstString(dataset, '0020000E');
    const sop = firstString(dataset, '00080018');
    if (!study || !dataset['00081190']) return dataset;
    let url = `${baseUrl(request)}/studies/${study}`;
    if (level !== 'study' && series) url += `/series/${series}`;
    if (level === 'instance' && series && sop) url += `/instances/${sop}`;
    return { ...dataset, '00081190': { vr: 'UR', Value: [url] } };
  }

  function auditAction(route: Route | undefined): ImageAuditAction {
    if (!route) return 'image.query';
    if (route.tail === 'metadata') return 'image.metadata';
    if (route.tail === 'frames' || route.tail === 'bulk') return 'image.frames';
    if (route.tail === 'rendered' || route.tail === 'thumbnail') return 'image.rendered';
    if (route.tail === 'series' || route.tail === 'instances') return 'image.query';
    if (!route.studyInstanceUid) return 'image.query';
    return 'image.retrieve';
  }

  async function search(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    route: Route,
    study: StudyAccess | undefined,
    access: ImagingAccess,
    tracked: TrackedImageAccess | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const level: QueryLevel = !route.studyInstanceUid ? 'study' : route.tail === 'series' ? 'series' : 'instance';
    let query: StudyQuery | null = parseSearch(url.searchParams, level, route);
    let results: DicomJsonDataset[];
    if (study) {
      const source = await locator.locate(study.grant.studyInstanceUid, signal);
      query = await resolveMatchUids(query, study, source, signal);
      results = query ? await source.search(query, signal) : [];
    } else {
      query = withOriginalStudyUids(query, access);
      // Each source answers up to offset+limit; the merged list is cut once.
      const perSource = { ...query, offset: 0, limit: query.offset + query.limit };
      const answers = await Promise.allSettled(sources.map((source) => source.search(perSource, signal)));
      results = [];
      let failure: unknown;
      answers.forEach((answer, index) => {
        const source = sources[index];
        if (answer.status === 'rejected') {
          failure ??= answer.reason;
          return;
        }
        for (const dataset of answer.value) {
          const studyUid = firstString(dataset, '0020000D');
          if (!studyUid || !uid.safeParse(studyUid).success) continue;
          if (!access.mayQuerySources && !access.studyGrant(studyUid)) continue;
          if (source) locator.remember(studyUid, source);
          results.push(dataset);
        }
      });
      if (results.length === 0 && failure !== undefined) throw failure;
      results = results.slice(query.offset, query.offset + query.limit);
    }
    let withheld = 0;
    const session = deidentifier?.forSession(access.actor.sessionId);
    results = results.flatMap((found) => {
      const dataset = withRetrieveUrl(request, found, level);
      const studyUid = study?.grant.studyInstanceUid ?? firstString(dataset, '0020000D') ?? '';
      const studyGrant = study?.grant ?? access.studyGrant(studyUid);
      // A study not shared was found by a sharer searching the sources (mayQuerySources): they
      // pick the patient's study by its identity, as at scheduling; every search is audited.
      const deidentify = studyGrant?.deidentify ?? false;
      if (!deidentify) return [dataset];
      if (!session)
        throw new FrontError(403, 'deidentification_unavailable', 'results may only be shown de-identified');
      const cleaned = session.datasets([dataset]);
      withheld += cleaned.withheld;
      return cleaned.datasets;
    });
    if (withheld > 0) tracked?.note({ withheld });
    if (results.length === 0) {
      response.writeHead(204);
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/dicom+json' });
    response.end(JSON.stringify(results));
  }

  /** A study-level StudyInstanceUID match may name studies shared de-identified by their remapped UIDs. */
  function withOriginalStudyUids(query: StudyQuery, access: ImagingAccess): StudyQuery {
    const key = query.match.StudyInstanceUID !== undefined ? 'StudyInstanceUID' : '0020000D';
    const value = query.match[key];
    if (value === undefined || !deidentifier) return query;
    const session = deidentifier.forSession(access.actor.sessionId);
    const remapped = new Map(
      access.studies
        .filter((grant) => grant.deidentify)
        .map((grant) => [session.remap(grant.studyInstanceUid), grant.studyInstanceUid]),
    );
    const listed = value.split(/[\\,]/).map((one) => remapped.get(one) ?? one);
    return { ...query, match: { ...query.match, [key]: listed.join('\\') } };
  }

  function instanceKey(sourceId: string, study: string, series: string, sop: string): InstanceKey {
    return { sourceId, studyInstanceUid: study, seriesInstanceUid: series, sopInstanceUid: sop };
  }

  /** One instance through the cache (single flight), fetched alone when not cached. */
  async function instanceBytes(source: StudySource, key: InstanceKey, signal: AbortSignal): Promise<Uint8Array> {
    return cache.readOrFetch(key, async () => {
      const scope = {
        studyInstanceUid: key.studyInstanceUid,
        seriesInstanceUid: key.seriesInstanceUid,
        sopInstanceUid: key.sopInstanceUid,
      };
      for await (const file of source.retrieve(scope, signal)) return file.body;
      throw new SourceError(source.id, 'not-found', `instance ${key.sopInstanceUid} not found`);
    });
  }

  /** A cached instance in pooled blocks; one that is not (evicted, damaged) through `instanceBytes`. */
  async function cachedInstance(source: StudySource, key: InstanceKey, signal: AbortSignal): Promise<HeldBytes> {
    return (await cache.readHeld(key)) ?? heldBytes(await instanceBytes(source, key, signal));
  }

  /**
   * Every instance in scope, one at a time, from the cache when a series is known complete there,
   * else from the source (each stored in the cache before it is handed on).
   */
  async function* instancesInScope(
    source: StudySource,
    route: Route,
    signal: AbortSignal,
  ): AsyncGenerator<InstanceInScope> {
    const study = route.studyInstanceUid ?? '';
    if (route.sopInstanceUid && route.seriesInstanceUid) {
      const key = instanceKey(source.id, study, route.seriesInstanceUid, route.sopInstanceUid);
      yield { key, ...heldBytes(await instanceBytes(source, key, signal)) };
      return;
    }
    if (route.seriesInstanceUid) {
      const cached = await cache.cachedSeries({
        sourceId: source.id,
        studyInstanceUid: study,
        seriesInstanceUid: route.seriesInstanceUid,
      });
      if (cached) {
        // Read ahead a few instances: the disk works while the socket drains.
        const ahead: { key: InstanceKey; held: Promise<HeldBytes>; heldBytes: number }[] = [];
        let aheadBytes = 0;
        let next = 0;
        try {
          while (next < cached.length || ahead.length > 0) {
            while (next < cached.length && (ahead.length === 0 || aheadBytes < cacheReadAheadBytes)) {
              const key = cached[next++]!;
              const held = cachedInstance(source, key, signal);
              held.catch(() => undefined); // awaited below; handled if the client leaves first
              const heldBytes = pooledBytesFor(cache.storedSize(key) ?? 0);
              aheadBytes += heldBytes;
              ahead.push({ key, held, heldBytes });
            }
            const first = ahead.shift()!;
            aheadBytes -= first.heldBytes;
            yield { key: first.key, ...(await first.held) };
          }
        } finally {
          // The client went away (or a read failed): what was read ahead goes back to the pool.
          for (const { held } of ahead.splice(0))
            held.then(
              (unsent) => unsent.release(),
              () => undefined,
            );
        }
        return;
      }
    }
    const seen = new Map<string, string[]>();
    const scope = {
      studyInstanceUid: study,
      ...(route.seriesInstanceUid ? { seriesInstanceUid: route.seriesInstanceUid } : {}),
    };
    // Disk writes run behind the stream, a bounded number at once: fetching and sending never wait
    // for the disk unless it falls that far behind.
    const storing = new Set<Promise<boolean>>();
    let storingBytes = 0;
    let allStored = true;
    for await (const file of source.retrieve(scope, signal)) {
      // Upstream data: its UIDs become cache paths, so they are validated like client input.
      const series = uid.safeParse(file.seriesInstanceUid);
      const sop = uid.safeParse(file.sopInstanceUid);
      if (!series.success || !sop.success || file.studyInstanceUid !== study) {
        file.body.destroy();
        throw new SourceError(source.id, 'refused', 'the source sent an instance with unusable UIDs');
      }
      const key = instanceKey(source.id, study, series.data, sop.data);
      // Staged (copied into pooled blocks, the disk write started) before any wait, so the
      // upstream's chunks die young.
      const { bytes, release, stored } = await cache.stage(key, file.body);
      const done = settled(stored);
      const heldBytes = bytes.heldBytes;
      storing.add(done);
      storingBytes += heldBytes;
      void done.then((ok) => {
        storing.delete(done);
        storingBytes -= heldBytes;
        if (!ok) allStored = false;
      });
      // Disk writes overlap sending and fetching the next instances, up to a few megabytes behind.
      while (storing.size > 1 && storingBytes > cacheWritesInFlightBytes) {
        if (!(await Promise.race(storing))) allStored = false;
      }
      const list = seen.get(series.data) ?? [];
      list.push(sop.data);
      seen.set(series.data, list);
      yield { key, bytes, release };
    }
    for (const ok of await Promise.all(storing)) if (!ok) allStored = false;
    if (seen.size === 0) throw new FrontError(404, 'not_found', 'no instances in scope');
    // A series is listed as complete only when every instance reached the disk.
    if (!allStored) return;
    for (const [seriesInstanceUid, sops] of seen) {
      await cache.rememberSeries({ sourceId: source.id, studyInstanceUid: study, seriesInstanceUid }, sops);
    }
  }

  /** The instance's URL as the client knows it (remapped UIDs when `session` is given). */
  function instanceUrl(request: IncomingMessage, key: InstanceKey, session?: SessionDeidentifier): string {
    const name = (uid: string) => (session ? session.remap(uid) : uid);
    return `${baseUrl(request)}/studies/${name(key.studyInstanceUid)}/series/${name(key.seriesInstanceUid)}/instances/${name(key.sopInstanceUid)}`;
  }

  /**
   * Whether a refused instance ends the request (403: the client named that one instance) or is
   * left out of a longer answer (counted in the audit).
   */
  function withholdOrThrow(error: unknown, route: Route): void {
    if (!(error instanceof DeidentificationRefusal) || route.sopInstanceUid) throw error;
  }

  async function retrieve(
    request: IncomingMessage,
    response: ServerResponse,
    route: Route,
    session: SessionDeidentifier | undefined,
    source: StudySource,
    tracked: TrackedImageAccess | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    if (!acceptsMultipart(request.headers.accept, 'application/dicom')) {
      throw new FrontError(406, 'not_acceptable', 'instances are sent as multipart/related; type="application/dicom"');
    }
    const writer = new MultipartRelatedWriter(response, 'application/dicom');
    let withheld = 0;
    for await (const instance of instancesInScope(source, route, signal)) {
      const { bytes, release } = instance;
      let syntax: string | undefined;
      try {
        syntax = readInstanceIdentity(bytes.chunks, bytes.size).transferSyntaxUid;
      } finally {
        if (!syntax) release();
      }
      if (!syntax) throw new Part10Error('the file meta has no transfer syntax');
      const contentType = `application/dicom; transfer-syntax=${syntax}`;
      if (session) {
        let body: Uint8Array;
        try {
          body = session.part10(wholeInstance(instance));
        } catch (error) {
          withholdOrThrow(error, route);
          withheld += 1;
          continue;
        }
        await writer.writePart(body, contentType);
      } else {
        // The blocks go back to the pool once the socket is done with them.
        await writer.writePartChunks(bytes.chunks, bytes.size, contentType, { sent: release });
      }
      tracked?.countInstance();
    }
    if (withheld > 0) tracked?.note({ withheld });
    if (writer.partCount === 0 && withheld > 0) {
      throw new FrontError(403, 'deidentification_refused', 'no instance in scope may be shown de-identified');
    }
    writer.end();
  }

  async function metadata(
    request: IncomingMessage,
    response: ServerResponse,
    route: Route,
    session: SessionDeidentifier | undefined,
    source: StudySource,
    tracked: TrackedImageAccess | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    let started = false;
    let withheld = 0;
    for await (const instance of instancesInScope(source, route, signal)) {
      const key = instance.key;
      // Built with the original UIDs: de-identification remaps every UID in the BulkDataURIs.
      let json = Part10Instance.parse(wholeInstance(instance)).toDicomJson({ instanceUrl: instanceUrl(request, key) });
      if (session) {
        try {
          json = session.dataset(json);
        } catch (error) {
          withholdOrThrow(error, route);
          withheld += 1;
          continue;
        }
      }
      const chunk = `${started ? ',' : '['}${JSON.stringify(json)}`;
      if (!started) response.writeHead(200, { 'content-type': 'application/dicom+json' });
      started = true;
      if (!response.write(chunk)) await new Promise((resolve) => response.once('drain', resolve));
    }
    if (withheld > 0) tracked?.note({ withheld });
    if (!started && withheld > 0) {
      throw new FrontError(403, 'deidentification_refused', 'no instance in scope may be shown de-identified');
    }
    if (!started) response.writeHead(200, { 'content-type': 'application/dicom+json' });
    response.end(started ? ']' : '[]');
  }

  /** The one instance a frames or bulk data request names, checked for de-identified display. */
  async function singleInstance(
    route: Route,
    session: SessionDeidentifier | undefined,
    source: StudySource,
    signal: AbortSignal,
  ): Promise<{ key: InstanceKey; instance: Part10Instance }> {
    const key = instanceKey(
      source.id,
      route.studyInstanceUid ?? '',
      route.seriesInstanceUid ?? '',
      route.sopInstanceUid ?? '',
    );
    const instance = Part10Instance.parse(await instanceBytes(source, key, signal));
    session?.checkPixels(instance);
    return { key, instance };
  }

  async function frames(
    request: IncomingMessage,
    response: ServerResponse,
    route: Route,
    session: SessionDeidentifier | undefined,
    source: StudySource,
    signal: AbortSignal,
  ): Promise<void> {
    const { key, instance } = await singleInstance(route, session, source, signal);
    const wanted = framesOf(instance, route);
    const stored = instance.frame(wanted[0] ?? 1).transferSyntaxUid;
    const syntax = frameTransferSyntax(request.headers.accept, stored);
    // Native frames are the same bytes in either little endian syntax; compressed ones are decoded.
    const decode = isEncapsulatedSyntax(stored) && syntax !== stored;
    // The first frame is decoded before the answer starts: one that cannot be is still a clean 406.
    const first = wanted[0];
    const firstDecoded = decode && first !== undefined ? await transcodeFrameToNative(instance, first) : undefined;
    const writer = new MultipartRelatedWriter(response, 'application/octet-stream');
    const location = instanceUrl(request, key, session);
    for (const [index, number] of wanted.entries()) {
      let bytes: Uint8Array;
      if (index === 0 && firstDecoded) bytes = firstDecoded;
      else bytes = decode ? await transcodeFrameToNative(instance, number) : instance.frame(number).bytes;
      await writer.writePart(bytes, `application/octet-stream; transfer-syntax=${syntax}`, {
        'Content-Location': `${location}/frames/${number}`,
      });
    }
    writer.end();
  }

  /** The instance's frames that `route` names, each checked to exist (404). */
  function framesOf(instance: Part10Instance, route: Route): number[] {
    if (!instance.hasPixelData) throw new FrontError(404, 'not_found', 'the instance has no pixel data');
    const wanted = route.frames ?? [];
    for (const number of wanted) {
      if (number > instance.numberOfFrames) {
        throw new FrontError(
          404,
          'not_found',
          `frame ${number} does not exist (the instance has ${instance.numberOfFrames})`,
        );
      }
    }
    return wanted;
  }

  /** The series of a study in Series Number order, those without images (SR, KO…) left out. */
  async function seriesInOrder(source: StudySource, studyInstanceUid: string, signal: AbortSignal) {
    const found = await searchWithin(source, { studyInstanceUid }, ['00200011', '00080060'], signal);
    return byNumber(
      found.filter((dataset) => !imagelessModalities.has(firstString(dataset, '00080060') ?? '')),
      '00200011',
      '0020000E',
    );
  }

  /**
   * The instances of a series in Instance Number order; with the source unreachable, the cached
   * list of a series read whole (in the order it came).
   */
  async function instancesInOrder(source: StudySource, studyInstanceUid: string, series: string, signal: AbortSignal) {
    try {
      const found = await searchWithin(source, { studyInstanceUid, seriesInstanceUid: series }, ['00200013'], signal);
      return byNumber(found, '00200013', '00080018');
    } catch (error) {
      const cached = await cache.cachedSeries({ sourceId: source.id, studyInstanceUid, seriesInstanceUid: series });
      if (!cached) throw error;
      return cached.map((key) => key.sopInstanceUid);
    }
  }

  /**
   * The instance and frame a thumbnail shows: the named frame, else the middle frame of the named
   * instance, else of the middle instance of the series (of the first series with images in the
   * study). Checked for de-identified display like any frame.
   */
  async function thumbnailFrame(
    route: Route,
    session: SessionDeidentifier | undefined,
    source: StudySource,
    signal: AbortSignal,
  ): Promise<{ instance: Part10Instance; frame: number }> {
    const middleFrame = (instance: Part10Instance) => Math.ceil(instance.numberOfFrames / 2);
    if (route.sopInstanceUid) {
      const { instance } = await singleInstance(route, session, source, signal);
      const [frame, ...more] = framesOf(instance, route);
      if (more.length > 0) throw new FrontError(400, 'bad_request', 'a thumbnail shows one frame');
      return { instance, frame: frame ?? middleFrame(instance) };
    }
    const study = route.studyInstanceUid ?? '';
    const seriesList = route.seriesInstanceUid ? [route.seriesInstanceUid] : await seriesInOrder(source, study, signal);
    for (const series of seriesList.slice(0, thumbnailSeriesTried)) {
      const sops = await instancesInOrder(source, study, series, signal);
      const middle = sops[Math.floor((sops.length - 1) / 2)];
      if (!middle) continue;
      const instance = Part10Instance.parse(
        await instanceBytes(source, instanceKey(source.id, study, series, middle), signal),
      );
      if (!instance.hasPixelData) continue;
      session?.checkPixels(instance);
      return { instance, frame: middleFrame(instance) };
    }
    throw new FrontError(404, 'not_found', 'no image in scope to show as a thumbnail');
  }

  function sendImage(response: ServerResponse, image: RenderedImage): void {
    response.writeHead(200, {
      'content-type': image.mediaType,
      'content-length': String(image.bytes.byteLength),
      ...renderedCacheHeaders,
    });
    response.end(image.bytes);
  }

  /**
   * The rendered (PS3.18 §9.4) and thumbnail (§9.5) resources. A thumbnail, an instance or one
   * frame is one image; a study, a series or several frames are `multipart/related`, one part per
   * instance (its first frame) or frame. An instance's rendered image is its first frame only,
   * even for multi-frame instances (PS3.18 would allow all frames or a video): name frames to get
   * others. In a study or series, instances without pixels, refused for de-identified display, or
   * that cannot be rendered are left out (counted in the audit).
   */
  async function rendered(
    request: IncomingMessage,
    response: ServerResponse,
    route: Route,
    { parameters, mediaType }: { parameters: RenderingParameters; mediaType: RenderedMediaType },
    session: SessionDeidentifier | undefined,
    source: StudySource,
    tracked: TrackedImageAccess | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    if (route.tail === 'thumbnail') {
      const { instance, frame } = await thumbnailFrame(route, session, source, signal);
      sendImage(response, await renderFrame(instance, frame, parameters, mediaType));
      tracked?.countInstance();
      return;
    }
    if (route.sopInstanceUid) {
      const frames = route.frames ?? [1];
      const { key, instance } = await singleInstance(route, session, source, signal);
      framesOf(instance, route);
      tracked?.countInstance();
      const [only] = frames;
      if (frames.length === 1 && only !== undefined) {
        sendImage(response, await renderFrame(instance, only, parameters, mediaType));
        return;
      }
      const writer = new MultipartRelatedWriter(response, mediaType);
      const location = instanceUrl(request, key, session);
      for (const number of frames) {
        const image = await renderFrame(instance, number, parameters, mediaType);
        writer.start(renderedCacheHeaders);
        await writer.writePart(image.bytes, mediaType, { 'Content-Location': `${location}/frames/${number}/rendered` });
      }
      writer.end();
      return;
    }
    const writer = new MultipartRelatedWriter(response, mediaType);
    let withheld = 0;
    let unrendered = 0;
    for await (const entry of instancesInScope(source, route, signal)) {
      const instance = Part10Instance.parse(wholeInstance(entry));
      if (!instance.hasPixelData) continue;
      let image: RenderedImage;
      try {
        session?.checkPixels(instance);
        image = await renderFrame(instance, 1, parameters, mediaType);
      } catch (error) {
        const unrenderable =
          (error instanceof ImageRenderingError && error.reason === 'unrenderable') ||
          error instanceof FrameDecodingError;
        if (unrenderable) {
          unrendered += 1;
          continue;
        }
        withholdOrThrow(error, route);
        withheld += 1;
        continue;
      }
      writer.start(renderedCacheHeaders);
      await writer.writePart(image.bytes, mediaType, {
        'Content-Location': `${instanceUrl(request, entry.key, session)}/rendered`,
      });
      tracked?.countInstance();
    }
    if (withheld > 0 || unrendered > 0) tracked?.note({ withheld, unrendered });
    if (writer.partCount === 0) {
      if (withheld > 0) {
        throw new FrontError(403, 'deidentification_refused', 'no instance in scope may be shown de-identified');
      }
      throw new FrontError(404, 'not_found', 'no image in scope can be rendered');
    }
    writer.end();
  }

  async function bulk(
    response: ServerResponse,
    route: Route,
    session: SessionDeidentifier | undefined,
    source: StudySource,
    signal: AbortSignal,
  ): Promise<void> {
    const bulkPath = route.bulkPath ?? '';
    if (session && !deidentifiedBulkTag.test(bulkPath.toUpperCase())) {
      throw new FrontError(404, 'not_found', `no bulk data at ${bulkPath}`);
    }
    const { instance } = await singleInstance(route, session, source, signal);
    const parts = instance.bulkData(bulkPath);
    if (!parts) throw new FrontError(404, 'not_found', `no bulk data at ${bulkPath}`);
    const writer = new MultipartRelatedWriter(response, 'application/octet-stream');
    const syntax = instance.encapsulated ? instance.transferSyntaxUid : explicitVrLittleEndian;
    for (const part of parts) await writer.writePart(part, `application/octet-stream; transfer-syntax=${syntax}`);
    writer.end();
  }

  /** Answers a `/dicom-web/…` request; returns false for any other path (left to the caller). */
  return async function handleDicomWebRequest(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const url = new URL(request.url ?? '/', 'http://proxy.invalid');
    if (url.pathname !== ROOT && !url.pathname.startsWith(`${ROOT}/`)) return false;
    const abort = new AbortController();
    response.once('close', () => abort.abort());
    let access: ImagingAccess | undefined;
    let route: Route | undefined;
    let tracked: TrackedImageAccess | undefined;
    try {
      if (sources.length === 0) throw new FrontError(502, 'no_sources', 'no PACS source is configured');
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        throw new FrontError(405, 'method_not_allowed', 'only GET is supported');
      }
      access = await options.authorize(request);
      const asked = parseRoute(url.pathname.slice(ROOT.length));
      if (!asked) throw new FrontError(404, 'not_found', 'no such DICOMweb resource');
      route = asked;
      // Checked before anything is fetched: a malformed window or viewport is a 400, an image type
      // not offered a 406, straight away.
      const rendering =
        asked.tail === 'rendered' || asked.tail === 'thumbnail'
          ? {
              parameters: parseRenderingParameters(url.searchParams, asked.tail),
              mediaType: renderedMediaType(
                url.searchParams.get('accept') ?? request.headers.accept,
                isMultipartRendering(asked),
              ),
            }
          : undefined;
      // From here on the route names originals (the audit records what was really seen).
      let study: StudyAccess | undefined;
      if (asked.studyInstanceUid) ({ route, study } = await resolveRoute(asked, access, abort.signal));
      tracked = audit?.track(response, {
        action: auditAction(route),
        actor: access.actor,
        ...(route.studyInstanceUid ? { studyInstanceUid: route.studyInstanceUid } : {}),
        ...(route.seriesInstanceUid ? { seriesInstanceUid: route.seriesInstanceUid } : {}),
        ...(request.socket.remoteAddress ? { ip: request.socket.remoteAddress } : {}),
      });
      const isSearch =
        !route.studyInstanceUid || route.tail === 'series' || (route.tail === 'instances' && !route.sopInstanceUid);
      if (study?.session) tracked?.note({ deidentified: true });
      if (isSearch) {
        await search(request, response, url, route, study, access, tracked, abort.signal);
        return true;
      }
      const session = study?.session;
      const source = await locator.locate(route.studyInstanceUid ?? '', abort.signal);
      if (route.tail === 'metadata') {
        if (!route.seriesInstanceUid)
          throw new FrontError(404, 'not_found', 'metadata is served per series or instance');
        await metadata(request, response, route, session, source, tracked, abort.signal);
      } else if (route.tail === 'frames') {
        await frames(request, response, route, session, source, abort.signal);
      } else if (route.tail === 'bulk') {
        await bulk(response, route, session, source, abort.signal);
      } else if (rendering) {
        tracked?.note({ resource: route.tail });
        await rendered(request, response, route, rendering, session, source, tracked, abort.signal);
      } else if (route.tail === '') {
        await retrieve(request, response, route, session, source, tracked, abort.signal);
      } else {
        throw new FrontError(404, 'not_found', `no such DICOMweb resource: ${route.tail}`);
      }
    } catch (caught) {
      const error = frontErrorOf(caught);
      if (!tracked && audit && (error.status === 401 || error.status === 403)) {
        audit.track(response, {
          action: 'image.denied',
          actor: access?.actor ?? null,
          ...(route?.studyInstanceUid ? { studyInstanceUid: route.studyInstanceUid } : {}),
          ...(request.socket.remoteAddress ? { ip: request.socket.remoteAddress } : {}),
          detail: { code: error.code },
        });
      }
      if (error.status === 403) tracked?.note({ denied: error.code });
      sendFrontError(response, error);
    }
    return true;
  };
}
