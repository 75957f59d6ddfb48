import { api } from 'dicomweb-client';

/**
 * The images of one live session, as the viewer reaches them: through the page's own origin
 * (`/dicom-web/`, streamed to the DICOM proxy by the web server) with the session's short-lived
 * imaging token, renewed before it expires. Lists a study's series and a series' images in
 * display order. Browser-only (dicomweb-client speaks XMLHttpRequest).
 */

/** DICOM JSON (PS3.18 F.2) as the proxy sends it. */
export type DicomJsonDataset = Record<string, { vr: string; Value?: unknown[] } | undefined>;

export interface SeriesSummary {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  modality: string;
  description: string;
  seriesNumber: number | null;
  imageCount: number | null;
}

/** One displayable image: a single-frame instance, or one frame of a multi-frame one. */
export interface SeriesImage {
  sopInstanceUid: string;
  /** 1-based, as WADO-RS numbers frames. */
  frame: number;
  metadata: DicomJsonDataset;
}

/** What the study browser searches for; empty fields are left out of the query. */
export interface StudySearch {
  patientId: string;
  /** Matched fuzzily by the PACS (any part of the name, in any of its written forms). */
  patientName: string;
  /** YYYY-MM-DD, either end may be empty. */
  studyDateFrom: string;
  studyDateTo: string;
  modality: string;
  accessionNumber: string;
}

/** One study found in the session's sources. */
export interface StudyMatch {
  studyInstanceUid: string;
  patientName: string;
  patientId: string;
  /** YYYY-MM-DD, or '' when unknown. */
  patientBirthDate: string;
  studyDate: string;
  modalities: string[];
  description: string;
  accessionNumber: string;
  seriesCount: number | null;
  instanceCount: number | null;
}

/** The most studies one search lists (narrow the search for more). */
export const STUDY_SEARCH_LIMIT = 50;

const RENEW_BEFORE_EXPIRY_MS = 60_000;

function firstValue(dataset: DicomJsonDataset, tag: string): unknown {
  return dataset[tag]?.Value?.[0];
}
function text(dataset: DicomJsonDataset, tag: string): string {
  const value = firstValue(dataset, tag);
  return typeof value === 'string' ? value : '';
}
function numberOf(dataset: DicomJsonDataset, tag: string): number | null {
  const value = firstValue(dataset, tag);
  const parsed = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isFinite(parsed) ? parsed : null;
}
function numbers(dataset: DicomJsonDataset, tag: string): number[] {
  return (dataset[tag]?.Value ?? []).map(Number).filter(Number.isFinite);
}

/** A DICOM date (YYYYMMDD) as YYYY-MM-DD; anything else as it is. */
function isoDate(value: string): string {
  return /^\d{8}$/.test(value) ? `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}` : value;
}

/**
 * A person name (PS3.18 F.2.2: alphabetic, ideographic and phonetic groups) as Japanese readers
 * write it: the kanji form with its kana reading, else the alphabetic one; `^` between the
 * components becomes a space.
 */
export function personName(value: unknown): string {
  if (typeof value === 'string') return value.replaceAll('^', ' ').trim();
  if (typeof value !== 'object' || value === null) return '';
  const groups = value as { Alphabetic?: unknown; Ideographic?: unknown; Phonetic?: unknown };
  const group = (form: unknown) => (typeof form === 'string' ? form.replaceAll('^', ' ').trim() : '');
  const ideographic = group(groups.Ideographic);
  const phonetic = group(groups.Phonetic);
  const alphabetic = group(groups.Alphabetic);
  if (ideographic) return phonetic ? `${ideographic}（${phonetic}）` : ideographic;
  return alphabetic || phonetic;
}

/** The QIDO-RS query keys for a study search (PS3.18 §8.3.4), without the empty ones. */
export function studySearchParameters(search: StudySearch): Record<string, string> {
  const parameters: Record<string, string> = {};
  const patientId = search.patientId.trim();
  const patientName = search.patientName.trim();
  if (patientId) parameters.PatientID = patientId;
  if (patientName) {
    parameters.PatientName = patientName;
    parameters.fuzzymatching = 'true';
  }
  const dicomDate = (value: string) => value.replaceAll('-', '');
  if (search.studyDateFrom || search.studyDateTo) {
    parameters.StudyDate = `${dicomDate(search.studyDateFrom)}-${dicomDate(search.studyDateTo)}`;
  }
  if (search.modality.trim()) parameters.ModalitiesInStudy = search.modality.trim().toUpperCase();
  if (search.accessionNumber.trim()) parameters.AccessionNumber = search.accessionNumber.trim();
  parameters.includefield = '00081030,00100030,00201206,00201208';
  parameters.limit = String(STUDY_SEARCH_LIMIT);
  return parameters;
}

export function studyMatch(dataset: DicomJsonDataset): StudyMatch {
  return {
    studyInstanceUid: text(dataset, '0020000D'),
    patientName: personName(firstValue(dataset, '00100010')),
    patientId: text(dataset, '00100020'),
    patientBirthDate: isoDate(text(dataset, '00100030')),
    studyDate: isoDate(text(dataset, '00080020')),
    modalities: (dataset['00080061']?.Value ?? []).filter((value): value is string => typeof value === 'string'),
    description: text(dataset, '00081030'),
    accessionNumber: text(dataset, '00080050'),
    seriesCount: numberOf(dataset, '00201206'),
    instanceCount: numberOf(dataset, '00201208'),
  };
}

/**
 * Display order: along the slice normal when the geometry says so (the usual CT/MR stack),
 * else by Instance Number; frames of one instance in their order.
 */
export function sortSeriesImages(images: SeriesImage[]): SeriesImage[] {
  const key = (image: SeriesImage): [number, number, number] => {
    const position = numbers(image.metadata, '00200032');
    const orientation = numbers(image.metadata, '00200037');
    const instanceNumber = numberOf(image.metadata, '00200013') ?? 0;
    if (position.length === 3 && orientation.length === 6) {
      const [rx, ry, rz, cx, cy, cz] = orientation as [number, number, number, number, number, number];
      const normal = [ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx];
      const along = position[0]! * normal[0]! + position[1]! * normal[1]! + position[2]! * normal[2]!;
      return [along, instanceNumber, image.frame];
    }
    return [instanceNumber, 0, image.frame];
  };
  const keyed = images.map((image) => ({ image, key: key(image) }));
  keyed.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2]);
  return keyed.map(({ image }) => image);
}

export class SessionImaging {
  readonly sessionId: string;
  /** `…/dicom-web` on the page's origin. */
  readonly root: string;
  private token: string | null = null;
  private expiresAt = 0;
  private renewing: Promise<string> | null = null;
  private readonly client: InstanceType<typeof api.DICOMwebClient>;

  constructor(sessionId: string, origin = window.location.origin) {
    this.sessionId = sessionId;
    this.root = `${origin}/dicom-web`;
    this.client = new api.DICOMwebClient({ url: this.root, singlepart: true, headers: {} });
  }

  /** A valid token (renewed a minute before it expires). */
  async accessToken(): Promise<string> {
    if (this.token && Date.now() < this.expiresAt - RENEW_BEFORE_EXPIRY_MS) return this.token;
    this.renewing ??= (async () => {
      try {
        const response = await fetch(`/api/imaging-token?sessionId=${encodeURIComponent(this.sessionId)}`, {
          credentials: 'same-origin',
        });
        if (!response.ok) throw new Error(`imaging token refused (${response.status})`);
        const { token, expiresIn } = (await response.json()) as { token: string; expiresIn: number };
        this.token = token;
        this.expiresAt = Date.now() + expiresIn * 1000;
        return token;
      } finally {
        this.renewing = null;
      }
    })();
    return this.renewing;
  }

  /** Forgets the token: the next request fetches one naming the session's studies as they are now. */
  renewAccess(): void {
    this.token = null;
    this.expiresAt = 0;
  }

  async authorization(): Promise<Record<string, string>> {
    return { Authorization: `Bearer ${await this.accessToken()}` };
  }

  async series(studyInstanceUid: string): Promise<SeriesSummary[]> {
    this.client.headers = await this.authorization();
    const found = (await this.client.searchForSeries({ studyInstanceUID: studyInstanceUid })) as DicomJsonDataset[];
    return found
      .map((dataset) => ({
        studyInstanceUid,
        seriesInstanceUid: text(dataset, '0020000E'),
        modality: text(dataset, '00080060'),
        description: text(dataset, '0008103E'),
        seriesNumber: numberOf(dataset, '00200011'),
        imageCount: numberOf(dataset, '00201209'),
      }))
      .filter((series) => series.seriesInstanceUid !== '')
      .sort((a, b) => (a.seriesNumber ?? 1e9) - (b.seriesNumber ?? 1e9));
  }

  /** Studies in the session's sources (the study browser; only for accounts that may share). */
  async searchStudies(search: StudySearch): Promise<StudyMatch[]> {
    this.client.headers = await this.authorization();
    // No match is a 204 without a body.
    const found = (await this.client.searchForStudies({
      queryParams: studySearchParameters(search),
    })) as DicomJsonDataset[] | null;
    return (found ?? []).map(studyMatch).filter((study) => study.studyInstanceUid !== '');
  }

  /** Every image of a series in display order. */
  async seriesImages(studyInstanceUid: string, seriesInstanceUid: string): Promise<SeriesImage[]> {
    this.client.headers = await this.authorization();
    // dicomweb-client's typings ask for a `request` option its code does not need.
    const retrieve = this.client.retrieveSeriesMetadata as (options: {
      studyInstanceUID: string;
      seriesInstanceUID: string;
    }) => Promise<unknown>;
    const instances = (await retrieve.call(this.client, {
      studyInstanceUID: studyInstanceUid,
      seriesInstanceUID: seriesInstanceUid,
    })) as DicomJsonDataset[];
    const images: SeriesImage[] = [];
    for (const metadata of instances) {
      const sopInstanceUid = text(metadata, '00080018');
      // Objects without pixels (a structured report, a presentation state) are not shown.
      if (!sopInstanceUid || numberOf(metadata, '00280010') === null) continue;
      const frames = Math.max(1, numberOf(metadata, '00280008') ?? 1);
      for (let frame = 1; frame <= frames; frame += 1) images.push({ sopInstanceUid, frame, metadata });
    }
    return sortSeriesImages(images);
  }

  /** The WADO-RS frame URL Cornerstone's `wadors:` loader fetches. */
  frameUrl(studyInstanceUid: string, seriesInstanceUid: string, image: SeriesImage): string {
    return `${this.root}/studies/${studyInstanceUid}/series/${seriesInstanceUid}/instances/${image.sopInstanceUid}/frames/${image.frame}`;
  }

  /** A series thumbnail as an object URL (an <img> cannot send the token itself); null if none. */
  async thumbnail(studyInstanceUid: string, seriesInstanceUid: string): Promise<string | null> {
    const response = await fetch(`${this.root}/studies/${studyInstanceUid}/series/${seriesInstanceUid}/thumbnail`, {
      headers: { ...(await this.authorization()), Accept: 'image/jpeg' },
    });
    if (!response.ok) return null;
    return URL.createObjectURL(await response.blob());
  }
}
