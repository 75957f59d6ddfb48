import type { Readable } from 'node:stream';
import type { DicomJsonDataset } from './dicom-json.ts';

/**
 * A PACS the proxy reads from: a DICOMweb server (e.g. Orthanc with its DICOMweb plugin) or a
 * classic DIMSE peer (C-FIND / C-GET / C-MOVE). The front (DICOMweb for the viewer) and the cache
 * only see this interface, so any number of sources of either kind can be configured side by
 * side (env DICOM_SOURCES).
 *
 * Every UID passed in has already been validated (dicomUidSchema); sources must still never put
 * anything unvalidated into a URL, a path or a query.
 */

export type QueryLevel = 'study' | 'series' | 'instance';

/** A QIDO-RS / C-FIND query, already validated by the front. */
export interface StudyQuery {
  level: QueryLevel;
  /** Matching keys by keyword (e.g. `PatientName`, `StudyDate`, `ModalitiesInStudy`), DICOM matching syntax. */
  match: Record<string, string>;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  /** Extra attributes to return (keywords or tags), or `all`. */
  includeFields: string[] | 'all';
  fuzzyMatching: boolean;
  limit: number;
  offset: number;
}

/** One stored instance as the PACS has it: the whole Part 10 file (preamble, meta, dataset). */
export interface InstanceFile {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  /**
   * Part 10 bytes, streamed; consume or destroy it. A source that reads an instance whole hands it
   * as a PooledBytesStream, whose pooled blocks the cache takes over without copying them.
   */
  body: Readable;
}

/** Why a source could not answer: the front maps it to 404 / 502 / 504 and names the source. */
export class SourceError extends Error {
  readonly sourceId: string;
  readonly kind: 'not-found' | 'unavailable' | 'timeout' | 'refused';
  constructor(sourceId: string, kind: SourceError['kind'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SourceError';
    this.sourceId = sourceId;
    this.kind = kind;
  }
}

export interface StudySource {
  readonly id: string;
  /** Whether the PACS answers (C-ECHO, or a cheap DICOMweb request). */
  echo(signal?: AbortSignal): Promise<void>;
  /** Matching datasets in DICOM JSON, Unicode text. */
  search(query: StudyQuery, signal?: AbortSignal): Promise<DicomJsonDataset[]>;
  /**
   * The instances of a study (or one series, or one instance), each as its Part 10 file, one
   * after the other as they arrive (the first is yielded while later ones are still in transit).
   */
  retrieve(
    scope: { studyInstanceUid: string; seriesInstanceUid?: string; sopInstanceUid?: string },
    signal?: AbortSignal,
  ): AsyncIterable<InstanceFile>;
  close(): Promise<void>;
}
