import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dcmjsDimse from 'dcmjs-dimse';
import { z } from 'zod';
import { checkDimseRetrieveSetting, dimseSourceSettingSchema } from './config.ts';
import type { DicomJsonDataset } from './dicom-json.ts';
import { keywordOfTag, tagOfKey } from './dicom-dictionary.ts';
import { AssociationSlotAbortedError, DimseAssociationPool } from './dimse-association-pool.ts';
import {
  openAssociation,
  receivedDatasetBytes,
  type AssociationOptions,
  type DimsePeer,
  type DimseRequest,
  type OpenAssociation,
  type StorageContextProposal,
} from './dimse-association.ts';
import { part10Header, type ReceivedInstance } from './dimse-instance-file.ts';
import { RetrieveQueue, type QueuedInstance } from './dimse-retrieve-queue.ts';
import type { StoreRequest } from './dimse-association-reader.ts';
import { StorageScp } from './storage-scp.ts';
import { Part10Instance } from './part10-instance.ts';
import { SourceError, type InstanceFile, type StudyQuery, type StudySource } from './study-source.ts';

/**
 * A PACS that speaks only classic DICOM: C-ECHO, C-FIND (study / series / image level, study
 * root) and C-GET or C-MOVE, over dcmjs-dimse, never more associations at once than
 * `maxAssociations`. Retrieved instances are received raw (dimse-association-reader.ts), kept in
 * memory up to `maxInMemoryInstanceBytes` and spilled to a temp file beyond (dimse-instance-file.ts),
 * and yielded as each completes through a bounded queue (dimse-retrieve-queue.ts). With C-MOVE
 * the PACS sends them to the source's own storage SCP (storage-scp.ts, on `storageScpPort`,
 * started on the first retrieve), which hands each to the retrieve that asked for it.
 */

const { CEchoRequest, CFindRequest, CGetRequest, CMoveRequest } = dcmjsDimse.requests;
const { Status, TransferSyntax, SopClass } = dcmjsDimse.constants;

export const dimseSourceSchema = dimseSourceSettingSchema
  .extend({
    /** Where instances too large for memory are written in transit (a subdirectory per source is made). */
    storeDirectory: z.string().min(1).default(join(tmpdir(), 'telemed-dimse')),
    timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    /** Received instances waiting for the consumer before the peer is made to wait. */
    maxQueuedInstances: z.number().int().min(1).max(256).default(4),
    /** Memory bytes of received instances waiting for the consumer before the peer is made to wait. */
    maxQueuedBytes: z
      .number()
      .int()
      .min(1)
      .max(1024 ** 3)
      .default(16 * 1024 ** 2),
    /** A received instance up to this size stays in memory; a larger one spills to `storeDirectory`. */
    maxInMemoryInstanceBytes: z
      .number()
      .int()
      .min(0)
      .max(1024 ** 3)
      .default(16 * 1024 ** 2),
  })
  .superRefine(checkDimseRetrieveSetting);
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

type Scope = { studyInstanceUid: string; seriesInstanceUid?: string; sopInstanceUid?: string };

/** A received instance as the queue holds it: its UIDs from its head, else from the command and the scope. */
function queued(received: ReceivedInstance, sopInstanceUid: string, scope: Scope): QueuedInstance {
  const identity = received.identity();
  return {
    studyInstanceUid: identity.studyInstanceUid ?? scope.studyInstanceUid,
    seriesInstanceUid: identity.seriesInstanceUid ?? scope.seriesInstanceUid ?? '',
    sopInstanceUid: sopInstanceUid || identity.sopInstanceUid || '',
    received,
  };
}

type RetrieveResponse = { getStatus(): number; getFailures(): number };

export class DimseSource implements StudySource {
  readonly id: string;
  readonly pool: DimseAssociationPool;
  private readonly peer: DimsePeer;
  private readonly config: z.output<typeof dimseSourceSchema>;
  private readonly storeDirectory: string;
  private storageScp: Promise<StorageScp> | undefined;

  constructor(config: DimseSourceConfig) {
    this.config = dimseSourceSchema.parse(config);
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

  retrieve(scope: Scope, signal?: AbortSignal): AsyncIterable<InstanceFile> {
    return this.config.retrieveMethod === 'c-move'
      ? this.retrieveByMove(scope, signal)
      : this.retrieveByGet(scope, signal);
  }

  /** The storage SCP C-MOVEs arrive at, started on the first C-MOVE (again after a failed start). */
  private receiver(): Promise<StorageScp> {
    this.storageScp ??= StorageScp.listen({
      host: this.config.storageScpHost,
      port: this.config.storageScpPort!,
      aet: this.config.storageScpAet ?? this.config.moveDestinationAet!,
      peerAet: this.config.calledAet,
      storeDirectory: this.storeDirectory,
      memoryLimitBytes: this.config.maxInMemoryInstanceBytes,
      timeoutMs: this.config.timeoutMs,
    }).catch((error: unknown) => {
      this.storageScp = undefined;
      throw new SourceError(
        this.id,
        'unavailable',
        `the storage SCP for C-MOVE could not listen on port ${this.config.storageScpPort}`,
        { cause: error },
      );
    });
    return this.storageScp;
  }

  private async *retrieveByGet(scope: Scope, signal?: AbortSignal): AsyncGenerator<InstanceFile> {
    const request =
      scope.seriesInstanceUid && scope.sopInstanceUid
        ? CGetRequest.createImageGetRequest(scope.studyInstanceUid, scope.seriesInstanceUid, scope.sopInstanceUid)
        : scope.seriesInstanceUid
          ? CGetRequest.createSeriesGetRequest(scope.studyInstanceUid, scope.seriesInstanceUid)
          : CGetRequest.createStudyGetRequest(scope.studyInstanceUid);
    // Our own storage contexts are proposed instead of all the library knows (which exceed 128).
    request.setAddStorageSopClassesToAssociation(false);
    await mkdir(this.storeDirectory, { recursive: true });
    const queue = this.queue();
    // Resolves at once while the queue has room: the C-STORE is answered as soon as it is complete.
    const onInstance = (request: StoreRequest, received: ReceivedInstance) =>
      queue.put(queued(received, request.sopInstanceUid, scope));
    const store = { directory: this.storeDirectory, memoryLimitBytes: this.config.maxInMemoryInstanceBytes };
    yield* this.run('C-GET', request, queue, signal, { storageContexts: storageContextProposals, store, onInstance });
  }

  private queue(): RetrieveQueue {
    return new RetrieveQueue({ maxInstances: this.config.maxQueuedInstances, maxBytes: this.config.maxQueuedBytes });
  }

  private async *retrieveByMove(scope: Scope, signal?: AbortSignal): AsyncGenerator<InstanceFile> {
    const destination = this.config.moveDestinationAet!;
    const request =
      scope.seriesInstanceUid && scope.sopInstanceUid
        ? CMoveRequest.createImageMoveRequest(
            destination,
            scope.studyInstanceUid,
            scope.seriesInstanceUid,
            scope.sopInstanceUid,
          )
        : scope.seriesInstanceUid
          ? CMoveRequest.createSeriesMoveRequest(destination, scope.studyInstanceUid, scope.seriesInstanceUid)
          : CMoveRequest.createStudyMoveRequest(destination, scope.studyInstanceUid);
    await mkdir(this.storeDirectory, { recursive: true });
    const receiver = await this.receiver();
    const queue = this.queue();
    const messageId = receiver.nextMessageId();
    const unregister = receiver.expect({
      scope,
      messageId,
      originatorAet: this.config.callingAet,
      take: (moved) =>
        queue.put({
          studyInstanceUid: moved.identity.studyInstanceUid ?? scope.studyInstanceUid,
          seriesInstanceUid: moved.identity.seriesInstanceUid ?? scope.seriesInstanceUid ?? '',
          sopInstanceUid: moved.sopInstanceUid,
          received: moved.received,
        }),
    });
    try {
      yield* this.run('C-MOVE', request, queue, signal, { nextMessageId: () => messageId });
    } finally {
      unregister();
    }
  }

  /** One C-GET or C-MOVE association: its instances as they arrive, its outcome as a SourceError. */
  private async *run(
    operation: 'C-GET' | 'C-MOVE',
    request: DimseRequest,
    queue: RetrieveQueue,
    signal: AbortSignal | undefined,
    extra: Pick<AssociationOptions, 'storageContexts' | 'store' | 'onInstance' | 'nextMessageId'>,
  ): AsyncGenerator<InstanceFile> {
    const release = await this.slot(signal);
    let finalStatus: number | undefined;
    let failures = 0;
    request.on('response', (response: RetrieveResponse) => {
      const status = response.getStatus();
      if (status === Status.Pending) return;
      finalStatus = status;
      failures = response.getFailures() ?? 0;
    });
    let finished = false;
    let failure: SourceError | undefined;
    let association: OpenAssociation | undefined;
    try {
      association = openAssociation({
        peer: this.peer,
        requests: [request],
        signal,
        ...extra,
      });
      association.finished.then(
        () => {
          finished = true;
          queue.end();
        },
        (error: SourceError) => {
          finished = true;
          failure = error;
          queue.end();
        },
      );
      yield* queue.drain();
      if (failure) throw failure;
      if (queue.yielded === 0) {
        if (finalStatus === Status.MoveDestinationUnknown) {
          throw new SourceError(this.id, 'refused', `the PACS does not know the move destination (C-MOVE 0xa801)`);
        }
        // 0xB000: sub-operations done with failures; 0xA7xx/0xC0xx: refused or unable to process.
        const failed =
          finalStatus !== undefined && finalStatus !== Status.Success && (failures > 0 || finalStatus !== 0xb000);
        if (failed && failures > 0) {
          throw new SourceError(
            this.id,
            'unavailable',
            `${operation} failed with status 0x${finalStatus!.toString(16)}`,
          );
        }
        throw new SourceError(this.id, 'not-found', 'the PACS has no matching instances');
      }
    } finally {
      if (association && !finished) association.abort();
      // Lets a C-STORE response held for room go out, so the association can end.
      await queue.close();
      await association?.finished.catch(() => undefined);
      release();
    }
  }

  async close(): Promise<void> {
    // Associations live for one operation each; only a C-MOVE source's storage SCP stays open.
    const receiver = this.storageScp;
    this.storageScp = undefined;
    await receiver?.then((scp) => scp.close()).catch(() => undefined);
  }
}
