import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { dicomUidSchema } from '@telemed/domain';
import type { DicomJsonDataset } from './dicom-json.ts';
import { FrontError, frontErrorOf, sendFrontError } from './front-errors.ts';
import type { ImageAudit, ImageAuditAction, TrackedImageAccess } from './image-audit.ts';
import type { ImagingAccess, StudyGrant } from './imaging-access.ts';
import type { InstanceCache, InstanceKey } from './instance-cache.ts';
import { MultipartRelatedWriter } from './multipart-writer.ts';
import { Part10Instance, explicitVrLittleEndian, implicitVrLittleEndian } from './part10-instance.ts';
import { SourceError, type QueryLevel, type StudyQuery, type StudySource } from './study-source.ts';
import type { StudyLocator } from './study-locator.ts';

/**
 * The DICOMweb face of the proxy for the viewer (Cornerstone3D's `wadors:` loader): QIDO-RS
 * searches and WADO-RS retrieves under `/dicom-web/`, every instance passing through the disk
 * cache (retrieve → cache → client), every request authorized by its bearer token and audited.
 */

/** De-identification of what leaves for a reader outside the patient's care (deidentification.ts). */
export interface Deidentifier {
  dataset(dataset: DicomJsonDataset): DicomJsonDataset;
  part10(bytes: Uint8Array): Uint8Array;
}

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
  /** What follows the identified object: '', 'series', 'instances', 'metadata', 'frames', 'bulk'. */
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
    if (rest.length !== 2 || !route.sopInstanceUid) return undefined;
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

function firstString(dataset: DicomJsonDataset, tag: string): string | undefined {
  const value = dataset[tag]?.Value?.[0];
  return typeof value === 'string' ? value : undefined;
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
 * the same UID); native pixels in any little endian uncompressed syntax asked for; else 406.
 */
export function frameTransferSyntax(accept: string | undefined, stored: string): string {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return stored;
  const native = stored === explicitVrLittleEndian;
  for (const { type, params } of ranges) {
    const partType = params.get('type')?.toLowerCase();
    const multipartOctets =
      type === 'multipart/related' && (partType === undefined || partType === 'application/octet-stream');
    if (!(type === '*/*' || multipartOctets)) continue;
    // Without a transfer-syntax parameter the default for octet-stream frames is explicit VR little endian.
    const wanted = params.get('transfer-syntax') ?? (type === '*/*' ? '*' : explicitVrLittleEndian);
    if (wanted === '*' || wanted === stored) return stored;
    if (native && (wanted === explicitVrLittleEndian || wanted === implicitVrLittleEndian)) return wanted;
  }
  throw new FrontError(406, 'not_acceptable', `frames are stored as ${stored}; ask for it or transfer-syntax=*`);
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

  function grantFor(access: ImagingAccess, studyInstanceUid: string): StudyGrant {
    const grant = access.studyGrant(studyInstanceUid);
    if (!grant) throw new FrontError(403, 'forbidden', `study ${studyInstanceUid} is not shared with this token`);
    if (grant.deidentify && !deidentifier) {
      throw new FrontError(403, 'deidentification_unavailable', 'this study may only be shown de-identified');
    }
    return grant;
  }

  function auditAction(route: Route | undefined): ImageAuditAction {
    if (!route) return 'image.query';
    if (route.tail === 'metadata') return 'image.metadata';
    if (route.tail === 'frames' || route.tail === 'bulk') return 'image.frames';
    if (route.tail === 'series' || route.tail === 'instances') return 'image.query';
    if (!route.studyInstanceUid) return 'image.query';
    return 'image.retrieve';
  }

  async function search(
    response: ServerResponse,
    url: URL,
    route: Route,
    access: ImagingAccess,
    signal: AbortSignal,
  ): Promise<void> {
    const level: QueryLevel = !route.studyInstanceUid ? 'study' : route.tail === 'series' ? 'series' : 'instance';
    const query = parseSearch(url.searchParams, level, route);
    let results: DicomJsonDataset[];
    let grant: StudyGrant | null = null;
    if (route.studyInstanceUid) {
      grant = grantFor(access, route.studyInstanceUid);
      const source = await locator.locate(route.studyInstanceUid, signal);
      results = await source.search(query, signal);
    } else {
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
    results = results.map((dataset) => {
      const studyUid = grant?.studyInstanceUid ?? firstString(dataset, '0020000D') ?? '';
      const studyGrant = grant ?? access.studyGrant(studyUid);
      // A study found through mayQuerySources but not shared is listed only de-identified.
      const deidentify = studyGrant ? studyGrant.deidentify : true;
      if (!deidentify) return dataset;
      if (!deidentifier)
        throw new FrontError(403, 'deidentification_unavailable', 'results may only be shown de-identified');
      return deidentifier.dataset(dataset);
    });
    if (results.length === 0) {
      response.writeHead(204);
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/dicom+json' });
    response.end(JSON.stringify(results));
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

  /**
   * Every instance in scope, one at a time, from the cache when a series is known complete there,
   * else from the source (each stored in the cache before it is handed on).
   */
  async function* instancesInScope(
    source: StudySource,
    route: Route,
    signal: AbortSignal,
  ): AsyncGenerator<{ key: InstanceKey; bytes: Uint8Array }> {
    const study = route.studyInstanceUid ?? '';
    if (route.sopInstanceUid && route.seriesInstanceUid) {
      const key = instanceKey(source.id, study, route.seriesInstanceUid, route.sopInstanceUid);
      yield { key, bytes: await instanceBytes(source, key, signal) };
      return;
    }
    if (route.seriesInstanceUid) {
      const cached = await cache.cachedSeries({
        sourceId: source.id,
        studyInstanceUid: study,
        seriesInstanceUid: route.seriesInstanceUid,
      });
      if (cached) {
        for (const key of cached) yield { key, bytes: await instanceBytes(source, key, signal) };
        return;
      }
    }
    const seen = new Map<string, string[]>();
    const scope = {
      studyInstanceUid: study,
      ...(route.seriesInstanceUid ? { seriesInstanceUid: route.seriesInstanceUid } : {}),
    };
    for await (const file of source.retrieve(scope, signal)) {
      // Upstream data: its UIDs become cache paths, so they are validated like client input.
      const series = uid.safeParse(file.seriesInstanceUid);
      const sop = uid.safeParse(file.sopInstanceUid);
      if (!series.success || !sop.success || file.studyInstanceUid !== study) {
        file.body.destroy();
        throw new SourceError(source.id, 'refused', 'the source sent an instance with unusable UIDs');
      }
      const key = instanceKey(source.id, study, series.data, sop.data);
      const bytes = await cache.write(key, file.body);
      const list = seen.get(series.data) ?? [];
      list.push(sop.data);
      seen.set(series.data, list);
      yield { key, bytes };
    }
    if (seen.size === 0) throw new FrontError(404, 'not_found', 'no instances in scope');
    for (const [seriesInstanceUid, sops] of seen) {
      await cache.rememberSeries({ sourceId: source.id, studyInstanceUid: study, seriesInstanceUid }, sops);
    }
  }

  function instanceUrl(request: IncomingMessage, key: InstanceKey): string {
    return `${baseUrl(request)}/studies/${key.studyInstanceUid}/series/${key.seriesInstanceUid}/instances/${key.sopInstanceUid}`;
  }

  async function retrieve(
    request: IncomingMessage,
    response: ServerResponse,
    route: Route,
    grant: StudyGrant,
    source: StudySource,
    tracked: TrackedImageAccess | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    if (!acceptsMultipart(request.headers.accept, 'application/dicom')) {
      throw new FrontError(406, 'not_acceptable', 'instances are sent as multipart/related; type="application/dicom"');
    }
    const writer = new MultipartRelatedWriter(response, 'application/dicom');
    for await (const { bytes } of instancesInScope(source, route, signal)) {
      const instance = Part10Instance.parse(bytes);
      const body = grant.deidentify && deidentifier ? deidentifier.part10(bytes) : bytes;
      await writer.writePart(body, `application/dicom; transfer-syntax=${instance.transferSyntaxUid}`);
      tracked?.countInstance();
    }
    writer.end();
  }

  async function metadata(
    request: IncomingMessage,
    response: ServerResponse,
    route: Route,
    grant: StudyGrant,
    source: StudySource,
    signal: AbortSignal,
  ): Promise<void> {
    let started = false;
    for await (const { key, bytes } of instancesInScope(source, route, signal)) {
      let json = Part10Instance.parse(bytes).toDicomJson({ instanceUrl: instanceUrl(request, key) });
      if (grant.deidentify && deidentifier) json = deidentifier.dataset(json);
      const chunk = `${started ? ',' : '['}${JSON.stringify(json)}`;
      if (!started) response.writeHead(200, { 'content-type': 'application/dicom+json' });
      started = true;
      if (!response.write(chunk)) await new Promise((resolve) => response.once('drain', resolve));
    }
    response.end(started ? ']' : '[]');
  }

  async function frames(
    request: IncomingMessage,
    response: ServerResponse,
    route: Route,
    source: StudySource,
    signal: AbortSignal,
  ): Promise<void> {
    const key = instanceKey(
      source.id,
      route.studyInstanceUid ?? '',
      route.seriesInstanceUid ?? '',
      route.sopInstanceUid ?? '',
    );
    const instance = Part10Instance.parse(await instanceBytes(source, key, signal));
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
    const firstFrame = instance.frame(wanted[0] ?? 1);
    const syntax = frameTransferSyntax(request.headers.accept, firstFrame.transferSyntaxUid);
    const writer = new MultipartRelatedWriter(response, 'application/octet-stream');
    for (const number of wanted) {
      const { bytes } = instance.frame(number);
      await writer.writePart(bytes, `application/octet-stream; transfer-syntax=${syntax}`, {
        'Content-Location': `${instanceUrl(request, key)}/frames/${number}`,
      });
    }
    writer.end();
  }

  async function bulk(response: ServerResponse, route: Route, source: StudySource, signal: AbortSignal): Promise<void> {
    const key = instanceKey(
      source.id,
      route.studyInstanceUid ?? '',
      route.seriesInstanceUid ?? '',
      route.sopInstanceUid ?? '',
    );
    const instance = Part10Instance.parse(await instanceBytes(source, key, signal));
    const parts = instance.bulkData(route.bulkPath ?? '');
    if (!parts) throw new FrontError(404, 'not_found', `no bulk data at ${route.bulkPath}`);
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
      route = parseRoute(url.pathname.slice(ROOT.length));
      if (!route) throw new FrontError(404, 'not_found', 'no such DICOMweb resource');
      tracked = audit?.track(response, {
        action: auditAction(route),
        actor: access.actor,
        ...(route.studyInstanceUid ? { studyInstanceUid: route.studyInstanceUid } : {}),
        ...(route.seriesInstanceUid ? { seriesInstanceUid: route.seriesInstanceUid } : {}),
        ...(request.socket.remoteAddress ? { ip: request.socket.remoteAddress } : {}),
      });
      const isSearch =
        !route.studyInstanceUid || route.tail === 'series' || (route.tail === 'instances' && !route.sopInstanceUid);
      if (isSearch) {
        await search(response, url, route, access, abort.signal);
        return true;
      }
      const studyInstanceUid = route.studyInstanceUid ?? '';
      const grant = grantFor(access, studyInstanceUid);
      if (grant.deidentify) tracked?.note({ deidentified: true });
      const source = await locator.locate(studyInstanceUid, abort.signal);
      if (route.tail === 'metadata') {
        if (!route.seriesInstanceUid)
          throw new FrontError(404, 'not_found', 'metadata is served per series or instance');
        await metadata(request, response, route, grant, source, abort.signal);
      } else if (route.tail === 'frames') {
        await frames(request, response, route, source, abort.signal);
      } else if (route.tail === 'bulk') {
        await bulk(response, route, source, abort.signal);
      } else if (route.tail === '') {
        await retrieve(request, response, route, grant, source, tracked, abort.signal);
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
