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
