import { createHash } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  encodeIso2022Japanese,
  specificCharacterSetValues,
  type Iso2022JapaneseCharacterSet,
} from './iso-2022-jp-encoding.ts';

/**
 * Realistic, deterministic Part 10 series for tests and the demo: a CT or MR of a synthetic
 * chest phantom (body ellipse, bone ring, two lungs whose size changes along the series) with
 * correct geometry, Japanese descriptions and a three-group Japanese patient name in the chosen
 * Specific Character Set. Written slice by slice, one slice's pixels in memory at a time.
 */

// dcmjs ships no type declarations; the little of it used here is typed locally (not as an
// ambient module, so another workspace may declare its own).
interface DcmjsData {
  DicomDict: new (meta: Record<string, unknown>) => { dict: Record<string, unknown>; write(): ArrayBuffer };
  DicomMetaDictionary: { denaturalizeDataset(dataset: Record<string, unknown>): Record<string, unknown> };
}
const { data: dcmjs } = createRequire(import.meta.url)('dcmjs') as { data: DcmjsData };

export type TestSeriesCharacterSet = 'ISO_IR 192' | Iso2022JapaneseCharacterSet;

export interface TestSeriesOptions {
  dir: string;
  modality: 'CT' | 'MR';
  slices: number;
  rows: number;
  columns: number;
  /** Up to three `=`-separated groups, e.g. `Yamada^Taro=山田^太郎=やまだ^たろう`. */
  patientName: string;
  patientId: string;
  characterSet: TestSeriesCharacterSet;
  studyInstanceUid?: string;
  /** YYYYMMDD; 20250115 when absent. */
  studyDate?: string;
  studyDescription?: string;
  seriesDescription?: string;
  seriesNumber?: number;
  sliceThickness?: number;
  /** Everything (UIDs, noise) derives from it: same seed, same bytes. */
  seed: string;
}

export interface TestInstance {
  path: string;
  sopInstanceUid: string;
  instanceNumber: number;
}

export interface TestSeries {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  sopClassUid: string;
  instances: TestInstance[];
}

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const MR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.4';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const IMPLEMENTATION_CLASS_UID = '2.25.176118442306574640396404513424545398301';
/** Stored value 0 is −1024 HU: air sits just above it. */
const CT_RESCALE_INTERCEPT = -1024;
const FIELD_OF_VIEW_MM = 360;

/** A deterministic `2.25.` UID (PS3.5 §B.2: a UUID as a decimal integer) from the seed and a role. */
export function testUid(seed: string, role: string): string {
  const digest = createHash('sha256').update(`${seed}\0${role}`).digest();
  const uuid = BigInt(`0x${digest.subarray(0, 16).toString('hex')}`);
  return `2.25.${uuid}`;
}

/** The Japanese studies come in (CT chest, MR head), so the descriptions read naturally. */
function defaultDescriptions(modality: 'CT' | 'MR'): { study: string; series: string } {
  return modality === 'CT'
    ? { study: '胸部単純CT', series: '肺野条件 軸位断' }
    : { study: '頭部MRI', series: 'T2強調 横断像' };
}

/**
 * A string value as dcmjs must be handed it. dcmjs writes every string as UTF-8, so ISO 2022
 * bytes above 0x7F (JIS X 0201 katakana) cannot pass through it: such values go in as
 * same-length placeholders and are patched into the written header afterwards.
 */
class StringEncoder {
  readonly patches: { placeholder: Buffer; bytes: Uint8Array }[] = [];
  readonly characterSet: TestSeriesCharacterSet;
  constructor(characterSet: TestSeriesCharacterSet) {
    this.characterSet = characterSet;
  }

  encode(text: string): string {
    if (this.characterSet === 'ISO_IR 192') return text;
    const bytes = encodeIso2022Japanese(text, this.characterSet);
    if (bytes.every((byte) => byte < 0x80)) return String.fromCharCode(...bytes);
    const placeholder = Buffer.from(bytes.map((byte) => (byte < 0x80 ? byte : 0x7f)));
    this.patches.push({ placeholder, bytes });
    return placeholder.toString('latin1');
  }

  apply(header: Buffer): void {
    for (const { placeholder, bytes } of this.patches) {
      const at = header.indexOf(placeholder);
      if (at < 0) throw new Error('dcmjs changed an encoded string value');
      header.set(bytes, at);
    }
  }
}

/** Small fast deterministic noise (xorshift32), seeded per slice. */
function noiseSource(seed: string, slice: number): () => number {
  let state = createHash('sha256').update(`${seed}\0noise\0${slice}`).digest().readUInt32LE(0) || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) % 41) - 20;
  };
}

/**
 * One slice of the phantom as stored values (unsigned 16-bit, 12 bits used), written into
 * `pixels`. `depth` runs 0..1 from the top of the series to the bottom.
 */
function drawPhantomSlice(
  pixels: Buffer,
  options: { rows: number; columns: number; modality: 'CT' | 'MR'; depth: number; noise: () => number },
): void {
  const { rows, columns, modality, depth } = options;
  // Tissue values: HU for CT (stored = HU − intercept), arbitrary signal for MR.
  const air = modality === 'CT' ? -1000 : 0;
  const soft = modality === 'CT' ? 40 : 600;
  const bone = modality === 'CT' ? 900 : 150;
  const lung = modality === 'CT' ? -820 : 60;
  const offset = modality === 'CT' ? -CT_RESCALE_INTERCEPT : 0;
  const lungScale = Math.sin(Math.PI * Math.min(Math.max(depth, 0.05), 0.95)); // apex → base → apex
  for (let y = 0; y < rows; y++) {
    const v = (2 * y) / rows - 1;
    for (let x = 0; x < columns; x++) {
      const u = (2 * x) / columns - 1;
      const body = (u / 0.85) ** 2 + (v / 0.6) ** 2;
      let value = air;
      if (body <= 1) {
        value = soft;
        if (body > 0.78 && body < 0.86) value = bone;
        const lungU = (Math.abs(u) - 0.38) / (0.26 * lungScale + 0.01);
        const lungV = (v + 0.05) / (0.4 * lungScale + 0.01);
        if (lungU * lungU + lungV * lungV <= 1) value = lung;
        value += options.noise();
      }
      pixels.writeUInt16LE(Math.min(Math.max(value + offset, 0), 4095), (y * columns + x) * 2);
    }
  }
}

/** PixelData (7FE0,0010) OW header in explicit VR little endian, for pixels appended after the dcmjs-written header. */
function pixelDataElementHeader(length: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16LE(0x7fe0, 0);
  header.writeUInt16LE(0x0010, 2);
  header.write('OW', 4, 'latin1');
  header.writeUInt32LE(length, 8);
  return header;
}

/** Writes the series as `dir/<InstanceNumber>.dcm`, slice by slice. */
export async function writeTestSeries(options: TestSeriesOptions): Promise<TestSeries> {
  const { modality, rows, columns, seed } = options;
  const studyInstanceUid = options.studyInstanceUid ?? testUid(seed, 'study');
  const seriesInstanceUid = testUid(seed, `series:${studyInstanceUid}:${options.seriesNumber ?? 1}`);
  const frameOfReferenceUid = testUid(seed, `frame:${seriesInstanceUid}`);
  const sopClassUid = modality === 'CT' ? CT_IMAGE_STORAGE : MR_IMAGE_STORAGE;
  const thickness = options.sliceThickness ?? (modality === 'CT' ? 1.25 : 5);
  const pixelSpacing = FIELD_OF_VIEW_MM / Math.max(rows, columns);
  const descriptions = defaultDescriptions(modality);
  const strings = new StringEncoder(options.characterSet);
  const characterSet =
    options.characterSet === 'ISO_IR 192' ? ['ISO_IR 192'] : specificCharacterSetValues(options.characterSet);
  const study = {
    SpecificCharacterSet: characterSet.length === 1 ? characterSet[0] : characterSet,
    PatientName: strings.encode(options.patientName),
    PatientID: options.patientId,
    PatientBirthDate: '19550401',
    PatientSex: 'M',
    StudyInstanceUID: studyInstanceUid,
    StudyDate: options.studyDate ?? '20250115',
    StudyTime: '093000',
    StudyID: '1',
    AccessionNumber: `A${testUid(seed, 'accession').slice(5, 14)}`,
    ReferringPhysicianName: '',
    StudyDescription: strings.encode(options.studyDescription ?? descriptions.study),
    InstitutionName: strings.encode('離島中央診療所'),
    Manufacturer: 'telemed test series',
  };
  const series = {
    Modality: modality,
    SeriesInstanceUID: seriesInstanceUid,
    SeriesNumber: String(options.seriesNumber ?? 1),
    SeriesDescription: strings.encode(options.seriesDescription ?? descriptions.series),
    SeriesDate: options.studyDate ?? '20250115',
    SeriesTime: '093100',
    BodyPartExamined: modality === 'CT' ? 'CHEST' : 'HEAD',
    PatientPosition: 'HFS',
    FrameOfReferenceUID: frameOfReferenceUid,
    PositionReferenceIndicator: '',
    SliceThickness: String(thickness),
    SpacingBetweenSlices: String(thickness),
    PixelSpacing: [String(pixelSpacing), String(pixelSpacing)],
    ImageOrientationPatient: ['1', '0', '0', '0', '1', '0'],
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: rows,
    Columns: columns,
    BitsAllocated: 16,
    BitsStored: 12,
    HighBit: 11,
    PixelRepresentation: 0,
    ...(modality === 'CT'
      ? {
          ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
          KVP: '120',
          ConvolutionKernel: 'LUNG',
          RescaleIntercept: String(CT_RESCALE_INTERCEPT),
          RescaleSlope: '1',
          RescaleType: 'HU',
          WindowCenter: ['-600', '40'],
          WindowWidth: ['1500', '400'],
        }
      : {
          ImageType: ['ORIGINAL', 'PRIMARY', 'M', 'ND'],
          ScanningSequence: 'SE',
          SequenceVariant: 'SK',
          ScanOptions: '',
          MRAcquisitionType: '2D',
          RepetitionTime: '4000',
          EchoTime: '100',
          MagneticFieldStrength: '1.5',
          WindowCenter: '400',
          WindowWidth: '800',
        }),
  };
  await mkdir(options.dir, { recursive: true });
  const pixels = Buffer.alloc(rows * columns * 2);
  const instances: TestInstance[] = [];
  const firstZ = 0;
  for (let index = 0; index < options.slices; index++) {
    const instanceNumber = index + 1;
    const sopInstanceUid = testUid(seed, `instance:${seriesInstanceUid}:${instanceNumber}`);
    const z = firstZ - index * thickness;
    const position = [-(columns * pixelSpacing) / 2, -(rows * pixelSpacing) / 2, z];
    const meta = {
      FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
      MediaStorageSOPClassUID: sopClassUid,
      MediaStorageSOPInstanceUID: sopInstanceUid,
      TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
      ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
      ImplementationVersionName: 'TELEMED_TEST_1',
    };
    const dataset = {
      ...study,
      ...series,
      SOPClassUID: sopClassUid,
      SOPInstanceUID: sopInstanceUid,
      InstanceNumber: String(instanceNumber),
      AcquisitionNumber: '1',
      ImagePositionPatient: position.map((value) => String(round(value))),
      SliceLocation: String(round(z)),
    };
    const file = new dcmjs.DicomDict(dcmjs.DicomMetaDictionary.denaturalizeDataset(meta));
    file.dict = dcmjs.DicomMetaDictionary.denaturalizeDataset(dataset);
    const header = Buffer.from(file.write());
    strings.apply(header);
    drawPhantomSlice(pixels, {
      rows,
      columns,
      modality,
      depth: options.slices > 1 ? index / (options.slices - 1) : 0.5,
      noise: noiseSource(seed, index),
    });
    const path = join(options.dir, `${String(instanceNumber).padStart(4, '0')}.dcm`);
    const handle = await open(path, 'w');
    try {
      await handle.write(header);
      await handle.write(pixelDataElementHeader(pixels.length));
      await handle.write(pixels);
    } finally {
      await handle.close();
    }
    instances.push({ path, sopInstanceUid, instanceNumber });
  }
  return { studyInstanceUid, seriesInstanceUid, frameOfReferenceUid, sopClassUid, instances };
}

/** Decimal strings must fit DS (16 characters): millimetres to 4 places are plenty. */
function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
