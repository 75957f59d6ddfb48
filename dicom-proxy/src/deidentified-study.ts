import { createHmac } from 'node:crypto';
import type { DicomJsonDataset } from './dicom-json.ts';
import {
  deidentifyDataset,
  deidentifyMetadata,
  deidentifyPart10,
  remapUid,
  type DeidentificationContext,
} from './deidentification.ts';
import type { Part10Instance } from './part10-instance.ts';

/**
 * What the DICOMweb front needs to serve a study de-identified (deidentification.ts does the
 * PS3.15 work): one `SessionDeidentifier` per request, keyed by the token's session, and the
 * resolution of the remapped UIDs a client names back to the originals.
 */

/** Fixed label: changing it changes every remapped UID (old viewer URLs stop resolving). */
const KEY_LABEL = 'telemed dicom-proxy de-identification key v1';

/**
 * The remapping key, derived from AUTH_SECRET so that every proxy node maps the same way without
 * another secret to distribute, while the token signing key itself is never used for it.
 */
export function deidentificationKey(authSecret: string): string {
  return createHmac('sha256', authSecret).update(KEY_LABEL).digest('hex');
}

export interface SessionDeidentifier {
  readonly sessionId: string;
  remap(uid: string): string;
  /** Throws `DeidentificationRefusal` (→ 403). */
  dataset(dataset: DicomJsonDataset): DicomJsonDataset;
  /** Refused datasets left out and counted. */
  datasets(datasets: readonly DicomJsonDataset[]): { datasets: DicomJsonDataset[]; withheld: number };
  /** Throws `DeidentificationRefusal` or `DeidentificationError`. */
  part10(bytes: Uint8Array): Uint8Array;
  /** Throws `DeidentificationRefusal` when the instance's pixels must not be shown de-identified. */
  checkPixels(instance: Part10Instance): void;
}

export interface Deidentifier {
  forSession(sessionId: string): SessionDeidentifier;
}

export function createDeidentifier(key: string): Deidentifier {
  return {
    forSession(sessionId) {
      const context: DeidentificationContext = { sessionId, key };
      return {
        sessionId,
        remap: (uid) => remapUid(uid, context),
        dataset: (dataset) => deidentifyDataset(dataset, context),
        datasets: (datasets) => deidentifyMetadata(datasets, context),
        part10: (bytes) => deidentifyPart10(bytes, context),
        checkPixels(instance) {
          // The profile's refusal rules look at these three attributes only.
          const text = (tag: string) => instance.dataSet.string(tag)?.trim();
          const probe: DicomJsonDataset = { '00080016': { vr: 'UI', Value: [instance.sopClassUid] } };
          const burnedIn = text('x00280301');
          const visual = text('x00280302');
          if (burnedIn) probe['00280301'] = { vr: 'CS', Value: [burnedIn] };
          if (visual) probe['00280302'] = { vr: 'CS', Value: [visual] };
          deidentifyDataset(probe, context);
        },
      };
    },
  };
}

/**
 * Remapped UID → original, per session and parent (the study for series, the series for
 * instances). The map is one-way, so a miss remaps every candidate (one HMAC each) and keeps
 * them all: the next lookups in the same series cost nothing. Bounded, least recently used out.
 */
export class DeidentifiedUidResolver {
  private readonly known = new Map<string, string>();
  private readonly maxEntries: number;

  constructor(maxEntries = 50_000) {
    this.maxEntries = maxEntries;
  }

  async resolve(
    session: SessionDeidentifier,
    parentUid: string,
    remapped: string,
    candidates: () => Promise<Iterable<string>>,
  ): Promise<string | null> {
    const key = `${session.sessionId}\u0000${parentUid}\u0000${remapped}`;
    const hit = this.known.get(key);
    if (hit !== undefined) {
      this.known.delete(key);
      this.known.set(key, hit);
      return hit;
    }
    let found: string | null = null;
    for (const original of await candidates()) {
      const mapped = session.remap(original);
      this.remember(`${session.sessionId}\u0000${parentUid}\u0000${mapped}`, original);
      if (mapped === remapped) found = original;
    }
    return found;
  }

  private remember(key: string, original: string): void {
    this.known.delete(key);
    this.known.set(key, original);
    if (this.known.size > this.maxEntries) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }

  get size(): number {
    return this.known.size;
  }
}
