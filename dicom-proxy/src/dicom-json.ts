/**
 * DICOM JSON (PS3.18 §F.2): one dataset is an object keyed by 8-hex-digit tags. Person names
 * carry `Alphabetic`/`Ideographic`/`Phonetic` groups, already decoded to Unicode (whatever the
 * Specific Character Set on the wire was).
 */
export type DicomJsonValue =
  string | number | { Alphabetic?: string; Ideographic?: string; Phonetic?: string } | DicomJsonDataset;

export interface DicomJsonAttribute {
  vr: string;
  Value?: DicomJsonValue[];
  InlineBinary?: string;
  BulkDataURI?: string;
}

export type DicomJsonDataset = Record<string, DicomJsonAttribute>;
