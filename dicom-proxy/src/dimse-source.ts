import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dcmjsDimse from 'dcmjs-dimse';
import { z } from 'zod';
import { dimseSourceSettingSchema } from './config.ts';
import type { DicomJsonDataset } from './dicom-json.ts';
import { keywordOfTag, tagOfKey } from './dicom-dictionary.ts';
import { AssociationSlotAbortedError, DimseAssociationPool } from './dimse-association-pool.ts';
import {
  openAssociation,
  receivedDatasetBytes,
  type DimsePeer,
  type DimseRequest,
  type StorageContextProposal,
} from './dimse-association.ts';
import { part10Header, type InstanceFileSink } from './dimse-instance-file.ts';
import { readInstanceIdentity } from './part10-identity.ts';
import { Part10Instance } from './part10-instance.ts';
import { SourceError, type InstanceFile, type StudyQuery, type StudySource } from './study-source.ts';

/**
 * A PACS that speaks only classic DICOM: C-ECHO, C-FIND (study / series / image level, study
 * root) and C-GET, over dcmjs-dimse, never more associations at once than `maxAssociations`.
 * Retrieved instances are written raw to temp files (see dimse-instance-file.ts) and yielded as
 * each completes. C-MOVE (retrieveMethod 'c-move') is not implemented yet: such a source refuses
 * to be created.
 */

const { CEchoRequest, CFindRequest, CGetRequest } = dcmjsDimse.requests;
const { Status, TransferSyntax, SopClass } = dcmjsDimse.constants;

export const dimseSourceSchema = dimseSourceSettingSchema.extend({
  /** Where instances in transit are written (a subdirectory per source is made). */
  storeDirectory: z.string().min(1).default(join(tmpdir(), 'telemed-dimse')),
  timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
  /** Received instances waiting for the consumer before the peer is made to wait. */
  maxQueuedInstances: z.number().int().min(1).max(256).default(4),
});
export type DimseSourceConfig = z.input<typeof dimseSourceSchema>;

const uncompressed = [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian];
const compressed = [
  TransferSyntax.JpegLossless,
  TransferSyntax.JpegBaseline,
  TransferSyntax.JpegLsLossless,
  TransferSyntax.Jpeg2000Lossless,
  TransferSyntax.Jpeg2000Lossy,
  TransferSyntax.RleLossless,
];
/** Image storage classes common in a rural hospital's PACS: each also gets the compressed syntaxes. */
const imageClasses = [
  '1.2.840.10008.5.1.4.1.1.2', // CT
  '1.2.840.10008.5.1.4.1.1.2.1', // Enhanced CT
  '1.2.840.10008.5.1.4.1.1.4', // MR
  '1.2.840.10008.5.1.4.1.1.4.1', // Enhanced MR
  '1.2.840.10008.5.1.4.1.1.1', // CR
  '1.2.840.10008.5.1.4.1.1.1.1', // DX for presentation
  '1.2.840.10008.5.1.4.1.1.1.1.1', // DX for processing
  '1.2.840.10008.5.1.4.1.1.1.2', // MG for presentation
  '1.2.840.10008.5.1.4.1.1.6.1', // US
  '1.2.840.10008.5.1.4.1.1.3.1', // US multi-frame
  '1.2.840.10008.5.1.4.1.1.7', // Secondary capture
  '1.2.840.10008.5.1.4.1.1.12.1', // XA
  '1.2.840.10008.5.1.4.1.1.20', // NM
  '1.2.840.10008.5.1.4.1.1.128', // PET
];
/** Non-image classes that come along in a study: uncompressed only. */
const otherClasses = [
  '1.2.840.10008.5.1.4.1.1.88.11', // Basic text SR
  '1.2.840.10008.5.1.4.1.1.88.22', // Enhanced SR
  '1.2.840.10008.5.1.4.1.1.88.33', // Comprehensive SR
  '1.2.840.10008.5.1.4.1.1.11.1', // Grayscale softcopy presentation state
  '1.2.840.10008.5.1.4.1.1.104.1', // Encapsulated PDF
  '1.2.840.10008.5.1.4.1.1.481.1', // RT image
  '1.2.840.10008.5.1.4.1.1.66', // Raw data
];

/**
 * One context per SOP class for the uncompressed syntaxes, and one per (SOP class, compressed
 * syntax): a peer then picks the syntax the instance is stored in instead of having to transcode
 * (which dcmqrscp cannot). 14 × 7 + 7 = 105 of the 128 contexts an association may have.
 */
export const storageContextProposals: StorageContextProposal[] = [
  ...imageClasses.flatMap((sopClassUid) => [
    { sopClassUid, transferSyntaxUids: uncompressed },
    ...compressed.map((syntax) => ({ sopClassUid, transferSyntaxUids: [syntax] })),
  ]),
  ...otherClasses.map((sopClassUid) => ({ sopClassUid, transferSyntaxUids: uncompressed })),
];

const levelKeys: Record<StudyQuery['level'], string[]> = {
  study: [
    'StudyInstanceUID',
    'StudyDate',
    'StudyTime',
    'AccessionNumber',
    'PatientName',
    'PatientID',
    'PatientBirthDate',
    'PatientSex',
    'StudyID',
    'StudyDescription',
    'ModalitiesInStudy',
    'NumberOfStudyRelatedSeries',
    'NumberOfStudyRelatedInstances',
  ],
  series: [
    'StudyInstanceUID',
    'SeriesInstanceUID',
    'Modality',
    'SeriesNumber',
    'SeriesDescription',
    'NumberOfSeriesRelatedInstances',
  ],
  instance: ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'SOPClassUID', 'InstanceNumber'],
};

const findModel = SopClass.StudyRootQueryRetrieveInformationModelFind;

/** A C-FIND identifier from a validated query: keyword → value (empty = return key). */
export function findIdentifier(query: StudyQuery): Record<string, string> {
  const identifier: Record<string, string> = {};
  const include = query.includeFields === 'all' ? [] : query.includeFields;
  for (const key of [...levelKeys[query.level], ...include]) {
    const tag = tagOfKey(key);
    const keyword = tag && keywordOfTag(tag);
    if (keyword) identifier[keyword] = '';
  }
  for (const [key, value] of Object.entries(query.match)) {
    const tag = tagOfKey(key);
    const keyword = tag && keywordOfTag(tag);
    if (!keyword) throw new RangeError(`unknown matching key ${key}`);
    identifier[keyword] = value;
  }
  if (query.studyInstanceUid) identifier.StudyInstanceUID = query.studyInstanceUid;
  if (query.seriesInstanceUid) identifier.SeriesInstanceUID = query.seriesInstanceUid;
  // Non-ASCII matching values go out as UTF-8 (dcmjs writes strings as UTF-8), so say so.
  const nonAscii = Object.values(identifier).some((value) => /[^\x20-\x7e]/.test(value));
  if (nonAscii) identifier.SpecificCharacterSet = 'ISO_IR 192';
  return identifier;
}

function findRequest(query: StudyQuery): DimseRequest {
  const identifier = findIdentifier(query);
  if (query.level === 'study') return CFindRequest.createStudyFindRequest(identifier);
  if (query.level === 'series') return CFindRequest.createSeriesFindRequest(identifier);
  return CFindRequest.createImageFindRequest(identifier);
}

/** A C-FIND response identifier as DICOM JSON, text decoded per its own Specific Character Set. */
export function identifierToDicomJson(raw: Buffer, transferSyntaxUid: string): DicomJsonDataset {
  // Part10Instance holds the project's one DICOM JSON mapping (ISO 2022 included); it reads Part
  // 10, so the identifier gets a file meta naming it (the meta group is not part of the JSON).
  const header = part10Header({ sopClassUid: findModel, sopInstanceUid: '2.25.0', transferSyntaxUid });
  return Part10Instance.parse(Buffer.concat([header, raw])).toDicomJson({ instanceUrl: '' });
}

interface ReadyInstance {
  file: InstanceFile;
  path: string;
}

export class DimseSource implements StudySource {
  readonly id: string;
  readonly pool: DimseAssociationPool;
  private readonly peer: DimsePeer;
  private readonly config: z.output<typeof dimseSourceSchema>;
  private readonly storeDirectory: string;

  constructor(config: DimseSourceConfig) {
    this.config = dimseSourceSchema.parse(config);
    if (this.config.retrieveMethod === 'c-move') {
      throw new RangeError(`source ${this.config.id}: C-MOVE retrieval is not implemented yet; use c-get`);
    }
    this.id = this.config.id;
    this.pool = new DimseAssociationPool(this.config.maxAssociations);
    this.peer = {
      sourceId: this.id,
      host: this.config.host,
      port: this.config.port,
      calledAet: this.config.calledAet,
      callingAet: this.config.callingAet,
      timeoutMs: this.config.timeoutMs,
    };
    this.storeDirectory = join(this.config.storeDirectory, this.id);
  }

  private async slot(signal?: AbortSignal): Promise<() => void> {
    try {
      return await this.pool.acquire(signal);
    } catch (error) {
      if (error instanceof AssociationSlotAbortedError) {
        throw new SourceError(this.id, 'timeout', 'gave up waiting for a free association', { cause: error });
      }
      throw error;
    }
  }

  async echo(signal?: AbortSignal): Promise<void> {
    const release = await this.slot(signal);
    try {
      const request = new CEchoRequest();
      let status: number | undefined;
      request.on('response', (response: { getStatus(): number }) => (status = response.getStatus()));
      await openAssociation({ peer: this.peer, requests: [request], signal }).finished;
      if (status !== Status.Success) {
        throw new SourceError(this.id, 'unavailable', `C-ECHO answered status ${status ?? 'none'}`);
      }
    } finally {
      release();
    }
  }

  async search(query: StudyQuery, signal?: AbortSignal): Promise<DicomJsonDataset[]> {
    const request = findRequest(query);
    const release = await this.slot(signal);
    const results: DicomJsonDataset[] = [];
    let skipped = 0;
    let failure: SourceError | undefined;
    let finalStatus: number | undefined;
    try {
      type FindResponse = { getStatus(): number; getDataset(): InstanceType<typeof dcmjsDimse.Dataset> | undefined };
      request.on('response', (response: FindResponse) => {
        const status = response.getStatus();
        if (status !== Status.Pending && status !== 0xff01) {
          finalStatus = status;
          return;
        }
        // The peer may ignore limit/offset (C-FIND has neither): applied here, without keeping extras.
        if (skipped < query.offset) {
          skipped += 1;
          return;
        }
        if (results.length >= query.limit) return;
        const dataset = response.getDataset();
        const raw = receivedDatasetBytes(dataset);
        if (!dataset || !raw) return;
        try {
          results.push(identifierToDicomJson(raw, dataset.getTransferSyntaxUid()));
        } catch (error) {
          failure ??= new SourceError(this.id, 'unavailable', 'unreadable C-FIND response', { cause: error });
        }
      });
      await openAssociation({ peer: this.peer, requests: [request], signal }).finished;
    } finally {
      release();
    }
    if (failure) throw failure;
    if (finalStatus !== undefined && finalStatus !== Status.Success && finalStatus !== Status.Cancel) {
      throw new SourceError(this.id, 'unavailable', `C-FIND failed with status 0x${finalStatus.toString(16)}`);
    }
    return results;
  }

  async *retrieve(
    scope: { studyInstanceUid: string; seriesInstanceUid?: string; sopInstanceUid?: string },
    signal?: AbortSignal,
  ): AsyncIterable<InstanceFile> {
    const request =
      scope.seriesInstanceUid && scope.sopInstanceUid
        ? CGetRequest.createImageGetRequest(scope.studyInstanceUid, scope.seriesInstanceUid, scope.sopInstanceUid)
        : scope.seriesInstanceUid
          ? CGetRequest.createSeriesGetRequest(scope.studyInstanceUid, scope.seriesInstanceUid)
          : CGetRequest.createStudyGetRequest(scope.studyInstanceUid);
    // Our own storage contexts are proposed instead of all the library knows (which exceed 128).
    request.setAddStorageSopClassesToAssociation(false);
    await mkdir(this.storeDirectory, { recursive: true });
    const release = await this.slot(signal);
    const ready: ReadyInstance[] = [];
    const pendingPaths = new Set<string>();
    let wake: (() => void) | undefined;
    let roomForMore: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    let finalStatus: number | undefined;
    let failures = 0;
    request.on('response', (response: { getStatus(): number; getFailures(): number }) => {
      const status = response.getStatus();
      if (status === Status.Pending) return;
      finalStatus = status;
      failures = response.getFailures() ?? 0;
    });
    const onInstance = async (sink: InstanceFileSink) => {
      const written = await sink.written;
      pendingPaths.add(written.path);
      let identity: ReturnType<typeof readInstanceIdentity> = {};
      try {
        identity = readInstanceIdentity([written.head], written.head.length);
      } catch {
        // A head that cannot be read (e.g. deflated): the scope names study and series.
      }
      ready.push({
        path: written.path,
        file: {
          studyInstanceUid: identity.studyInstanceUid ?? scope.studyInstanceUid,
          seriesInstanceUid: identity.seriesInstanceUid ?? scope.seriesInstanceUid ?? '',
          sopInstanceUid: sink.fields.sopInstanceUid || identity.sopInstanceUid || '',
          body: createReadStream(written.path, { highWaterMark: 1024 * 1024 }),
        },
      });
      notify();
      // The C-STORE response waits while the consumer is behind: the peer sends no more meanwhile.
      while (ready.length >= this.config.maxQueuedInstances) {
        await new Promise<void>((resolve) => (roomForMore = resolve));
      }
    };
    const association = openAssociation({
      peer: this.peer,
      requests: [request],
      storageContexts: storageContextProposals,
      storeDirectory: this.storeDirectory,
      onInstance,
      signal,
    });
    let finished = false;
    let failure: SourceError | undefined;
    association.finished.then(
      () => {
        finished = true;
        notify();
      },
      (error: SourceError) => {
        finished = true;
        failure = error;
        notify();
      },
    );
    let yielded = 0;
    try {
      for (;;) {
        const next = ready.shift();
        if (next) {
          roomForMore?.();
          roomForMore = undefined;
          pendingPaths.delete(next.path);
          next.file.body.once('close', () => void rm(next.path, { force: true }));
          yielded += 1;
          yield next.file;
          continue;
        }
        if (finished) break;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      if (failure) throw failure;
      if (yielded === 0) {
        // 0xB000: sub-operations done with failures; 0xA7xx/0xC0xx: refused or unable to process.
        const failed =
          finalStatus !== undefined && finalStatus !== Status.Success && (failures > 0 || finalStatus !== 0xb000);
        if (failed && failures > 0) {
          throw new SourceError(this.id, 'unavailable', `C-GET failed with status 0x${finalStatus!.toString(16)}`);
        }
        throw new SourceError(this.id, 'not-found', 'the PACS has no matching instances');
      }
    } finally {
      if (!finished) association.abort();
      roomForMore?.();
      await association.finished.catch(() => undefined);
      release();
      for (const leftover of ready) leftover.file.body.destroy();
      for (const path of pendingPaths) await rm(path, { force: true });
    }
  }

  async close(): Promise<void> {
    // Associations live for one operation each; nothing stays open between calls.
  }
}
