import { inflateRawSync } from 'node:zlib';
import dicomParser from 'dicom-parser';
import type { DicomJsonAttribute, DicomJsonDataset, DicomJsonValue } from './dicom-json.ts';
import { dictionaryVr } from './dicom-dictionary.ts';
import { decodeDicomText, decodePersonNames } from './specific-character-set.ts';

/**
 * One Part 10 instance held in memory (the proxy keeps at most one per request in flight): its
 * identity, its dataset as DICOM JSON (PS3.18 §F.2) and its frames. Parsing is dicom-parser's;
 * the JSON mapping and frame slicing are here because dicom-parser has neither, and dcmjs's
 * reader neither decodes ISO 2022 text nor avoids copying pixel data.
 */

export const explicitVrLittleEndian = '1.2.840.10008.1.2.1';
export const implicitVrLittleEndian = '1.2.840.10008.1.2';
const explicitVrBigEndian = '1.2.840.10008.1.2.2';
const deflatedExplicitVrLittleEndian = '1.2.840.10008.1.2.1.99';

/** Syntaxes whose pixel data is native (not encapsulated). */
const nativeSyntaxes = new Set([
  implicitVrLittleEndian,
  explicitVrLittleEndian,
  explicitVrBigEndian,
  deflatedExplicitVrLittleEndian,
]);

export function isEncapsulatedSyntax(transferSyntaxUid: string): boolean {
  return !nativeSyntaxes.has(transferSyntaxUid);
}

/** The file is not a Part 10 instance this proxy can read. */
export class Part10Error extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Part10Error';
  }
}

const pixelDataTag = '7FE00010';
const stringVrs = new Set([
  'AE',
  'AS',
  'CS',
  'DA',
  'DS',
  'DT',
  'IS',
  'LO',
  'LT',
  'SH',
  'ST',
  'TM',
  'UC',
  'UI',
  'UR',
  'UT',
]);
/** Text VRs that are one value (a `\` in them is text, not a delimiter). */
const singleValueTextVrs = new Set(['LT', 'ST', 'UT', 'UR']);
const binaryVrs = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
const numberVrSizes: Record<string, number> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, SV: 8, UV: 8, AT: 4 };
/** Element size of word-based binary VRs, for byte swapping big endian data to little endian. */
const binaryWordSizes: Record<string, number> = { OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 };

export interface DicomJsonOptions {
  /** Where this instance's bulk data is served, e.g. `http://host/dicom-web/studies/…/instances/…`. */
  instanceUrl: string;
  /** Binary values up to this many bytes go inline (base64); larger ones become BulkDataURIs. */
  inlineBinaryMaxBytes?: number;
}

/** A frame as it can be sent: bytes plus the transfer syntax they are in. */
export interface InstanceFrame {
  bytes: Uint8Array;
  transferSyntaxUid: string;
}

function tagOf(key: string): string {
  return key.slice(1).toUpperCase();
}

function swapToLittleEndian(bytes: Uint8Array, size: number): Uint8Array {
  const swapped = new Uint8Array(bytes.length - (bytes.length % size));
  for (let at = 0; at < swapped.length; at += size) {
    for (let k = 0; k < size; k += 1) swapped[at + k] = bytes[at + size - 1 - k] ?? 0;
  }
  return swapped;
}

function inflater(byteArray: Uint8Array, position: number): Uint8Array {
  const inflated = inflateRawSync(byteArray.subarray(position));
  const full = Buffer.alloc(position + inflated.length);
  full.set(byteArray.subarray(0, position), 0);
  full.set(inflated, position);
  return full;
}

function parseError(error: unknown): Part10Error {
  // dicom-parser throws strings or `{ exception, dataSet }`, not Errors.
  const inner = typeof error === 'object' && error !== null && 'exception' in error ? error.exception : error;
  return new Part10Error(`not a readable DICOM Part 10 file: ${String(inner)}`, { cause: error });
}

export class Part10Instance {
  readonly bytes: Uint8Array;
  readonly dataSet: dicomParser.DataSet;
  readonly transferSyntaxUid: string;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly numberOfFrames: number;
  private readonly littleEndian: boolean;
  private readonly signedPixels: boolean;

  private constructor(bytes: Uint8Array, dataSet: dicomParser.DataSet) {
    this.bytes = bytes;
    this.dataSet = dataSet;
    this.transferSyntaxUid = dataSet.string('x00020010')?.replace(/\0/g, '').trim() ?? '';
    this.sopClassUid = dataSet.string('x00080016') ?? dataSet.string('x00020002') ?? '';
    this.sopInstanceUid = dataSet.string('x00080018') ?? dataSet.string('x00020003') ?? '';
    this.studyInstanceUid = dataSet.string('x0020000d') ?? '';
    this.seriesInstanceUid = dataSet.string('x0020000e') ?? '';
    this.numberOfFrames = Math.max(1, dataSet.intString('x00280008') ?? 1);
    this.littleEndian = this.transferSyntaxUid !== explicitVrBigEndian;
    this.signedPixels = dataSet.uint16('x00280103') === 1;
  }

  /** Parses the bytes of one Part 10 file (preamble, `DICM`, file meta, dataset). */
  static parse(bytes: Uint8Array): Part10Instance {
    let dataSet: dicomParser.DataSet;
    try {
      dataSet = dicomParser.parseDicom(bytes, {
        inflater,
        // Implicit VR: the dictionary tells which elements are sequences and how to read numbers.
        vrCallback: (tag: string) => dictionaryVr(tagOf(tag)),
      } as dicomParser.ParseDicomOptions);
    } catch (error) {
      throw parseError(error);
    }
    const instance = new Part10Instance(bytes, dataSet);
    if (!instance.transferSyntaxUid) throw new Part10Error('the file meta has no transfer syntax');
    if (!instance.sopInstanceUid) throw new Part10Error('the dataset has no SOP Instance UID');
    return instance;
  }

  get hasPixelData(): boolean {
    return this.dataSet.elements.x7fe00010 !== undefined;
  }

  get encapsulated(): boolean {
    return (
      isEncapsulatedSyntax(this.transferSyntaxUid) && this.dataSet.elements.x7fe00010?.encapsulatedPixelData === true
    );
  }

  /** The dataset as DICOM JSON, without the file meta group; bulk data as BulkDataURIs. */
  toDicomJson(options: DicomJsonOptions): DicomJsonDataset {
    return this.datasetToJson(this.dataSet, this.characterSetOf(this.dataSet, ['']), '', options, true);
  }

  private characterSetOf(dataSet: dicomParser.DataSet, inherited: string[]): string[] {
    const element = dataSet.elements.x00080005;
    if (!element) return inherited;
    const raw = decodeDicomText(this.elementBytes(dataSet, element), [], 'CS');
    return raw.split('\\').map((term) => term.trim());
  }

  private elementBytes(dataSet: dicomParser.DataSet, element: dicomParser.Element): Uint8Array {
    return dataSet.byteArray.subarray(element.dataOffset, element.dataOffset + element.length);
  }

  private datasetToJson(
    dataSet: dicomParser.DataSet,
    characterSet: string[],
    path: string,
    options: DicomJsonOptions,
    topLevel: boolean,
  ): DicomJsonDataset {
    const json: DicomJsonDataset = {};
    for (const key of Object.keys(dataSet.elements).sort()) {
      const element = dataSet.elements[key];
      if (!element) continue;
      const tag = tagOf(key);
      // File meta and group lengths are not part of the dataset's JSON (PS3.18 §F.2.1).
      if ((topLevel && tag.startsWith('0002')) || tag.endsWith('0000') || tag.startsWith('FFFE')) continue;
      json[tag] = this.attributeToJson(dataSet, element, tag, characterSet, `${path}${tag}`, options);
    }
    return json;
  }

  private attributeToJson(
    dataSet: dicomParser.DataSet,
    element: dicomParser.Element,
    tag: string,
    characterSet: string[],
    path: string,
    options: DicomJsonOptions,
  ): DicomJsonAttribute {
    let vr = element.vr ?? dictionaryVr(tag, this.signedPixels);
    // UN for a tag the dictionary knows (e.g. written by a node that lacked it): read it as its real VR.
    if (vr === 'UN' && !element.items && !element.hadUndefinedLength) {
      const known = dictionaryVr(tag, this.signedPixels);
      if (known !== 'UN' && known !== 'SQ') vr = known;
    }
    if (element.items) {
      const items = element.items.map((item, index) => {
        const itemSet = item.dataSet;
        if (!itemSet) return {};
        return this.datasetToJson(
          itemSet,
          this.characterSetOf(itemSet, characterSet),
          `${path}/${index}/`,
          options,
          false,
        );
      });
      return items.length > 0 ? { vr: 'SQ', Value: items } : { vr: 'SQ' };
    }
    if (vr === 'SQ') return { vr };
    const bytes = this.elementBytes(dataSet, element);
    if (tag === pixelDataTag || element.encapsulatedPixelData || binaryVrs.has(vr)) {
      if (vr === 'UN' && tag === pixelDataTag) vr = 'OW';
      if (bytes.length === 0 && !element.encapsulatedPixelData) return { vr };
      const inlineMax = options.inlineBinaryMaxBytes ?? 1024;
      if (tag !== pixelDataTag && !element.encapsulatedPixelData && bytes.length <= inlineMax) {
        return { vr, InlineBinary: Buffer.from(this.binaryLittleEndian(bytes, vr)).toString('base64') };
      }
      return { vr, BulkDataURI: `${options.instanceUrl}/bulk/${path}` };
    }
    if (vr === 'PN') {
      const names = decodePersonNames(bytes, characterSet);
      return names.length > 0 ? { vr, Value: names } : { vr };
    }
    if (stringVrs.has(vr)) return this.stringAttribute(bytes, vr, characterSet);
    const size = numberVrSizes[vr];
    if (size !== undefined) {
      const values = this.numbers(bytes, vr, size);
      return values.length > 0 ? { vr, Value: values } : { vr };
    }
    return bytes.length > 0 ? { vr, InlineBinary: Buffer.from(bytes).toString('base64') } : { vr };
  }

  private stringAttribute(bytes: Uint8Array, vr: string, characterSet: string[]): DicomJsonAttribute {
    const text = decodeDicomText(bytes, characterSet, vr);
    if (text.length === 0) return { vr };
    const raw = singleValueTextVrs.has(vr) ? [text] : text.split('\\');
    const values: DicomJsonValue[] = raw.map((value) => {
      const trimmed = vr === 'ST' || vr === 'LT' || vr === 'UT' ? value.replace(/[ \0]+$/, '') : value.trim();
      if (vr === 'DS' || vr === 'IS') {
        const number = Number(trimmed);
        return trimmed !== '' && Number.isFinite(number) ? number : trimmed;
      }
      return trimmed;
    });
    return { vr, Value: values };
  }

  private numbers(bytes: Uint8Array, vr: string, size: number): DicomJsonValue[] {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const le = this.littleEndian;
    const values: DicomJsonValue[] = [];
    for (let at = 0; at + size <= bytes.length; at += size) {
      switch (vr) {
        case 'US':
          values.push(view.getUint16(at, le));
          break;
        case 'SS':
          values.push(view.getInt16(at, le));
          break;
        case 'UL':
          values.push(view.getUint32(at, le));
          break;
        case 'SL':
          values.push(view.getInt32(at, le));
          break;
        case 'FL':
          values.push(view.getFloat32(at, le));
          break;
        case 'FD':
          values.push(view.getFloat64(at, le));
          break;
        case 'SV':
        case 'UV': {
          const big = vr === 'SV' ? view.getBigInt64(at, le) : view.getBigUint64(at, le);
          // Beyond 2^53 a JSON number loses digits; PS3.18 allows the decimal string then.
          values.push(
            big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= -BigInt(Number.MAX_SAFE_INTEGER)
              ? Number(big)
              : big.toString(),
          );
          break;
        }
        case 'AT': {
          const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
          values.push(`${hex(view.getUint16(at, le))}${hex(view.getUint16(at + 2, le))}`);
          break;
        }
      }
    }
    return values;
  }

  private binaryLittleEndian(bytes: Uint8Array, vr: string): Uint8Array {
    const size = binaryWordSizes[vr];
    return this.littleEndian || size === undefined ? bytes : swapToLittleEndian(bytes, size);
  }

  /**
   * The bytes behind a BulkDataURI path (`TAG` or `SEQTAG/item/TAG/...`), little endian; for
   * encapsulated pixel data, one entry per frame. `undefined` when there is no such element.
   */
  bulkData(path: string): Uint8Array[] | undefined {
    const steps = path.split('/');
    let dataSet: dicomParser.DataSet | undefined = this.dataSet;
    while (steps.length > 2) {
      const sequence: dicomParser.Element | undefined = dataSet?.elements[`x${steps.shift()?.toLowerCase()}`];
      const index = Number(steps.shift());
      dataSet = sequence?.items?.[index]?.dataSet;
    }
    if (!dataSet || steps.length !== 1) return undefined;
    const tag = (steps[0] ?? '').toUpperCase();
    const element = dataSet.elements[`x${tag.toLowerCase()}`];
    if (!element || element.items) return undefined;
    if (element.encapsulatedPixelData) {
      return Array.from({ length: this.numberOfFrames }, (_, index) => this.frame(index + 1).bytes);
    }
    const vr = element.vr ?? dictionaryVr(tag, this.signedPixels);
    const bytes = this.elementBytes(dataSet, element);
    return [tag === pixelDataTag ? this.nativeLittleEndian(bytes) : this.binaryLittleEndian(bytes, vr)];
  }

  private nativeLittleEndian(bytes: Uint8Array): Uint8Array {
    const bitsAllocated = this.dataSet.uint16('x00280100') ?? 8;
    return this.littleEndian || bitsAllocated <= 8 ? bytes : swapToLittleEndian(bytes, bitsAllocated / 8);
  }

  /**
   * Frame `number` (1-based). Native pixel data is cut per frame and always returned as explicit
   * VR little endian (the frame bytes of any little endian native syntax are the same); encapsulated
   * frames come back as stored, in the stored syntax.
   */
  frame(number: number): InstanceFrame {
    const element = this.dataSet.elements.x7fe00010;
    if (!element) throw new Part10Error('the instance has no pixel data');
    if (!Number.isInteger(number) || number < 1 || number > this.numberOfFrames) {
      throw new Part10Error(`frame ${number} is out of range (1–${this.numberOfFrames})`);
    }
    if (element.encapsulatedPixelData) {
      return { bytes: this.encapsulatedFrame(element, number - 1), transferSyntaxUid: this.transferSyntaxUid };
    }
    const rows = this.dataSet.uint16('x00280010') ?? 0;
    const columns = this.dataSet.uint16('x00280011') ?? 0;
    const samples = this.dataSet.uint16('x00280002') ?? 1;
    const bitsAllocated = this.dataSet.uint16('x00280100') ?? 8;
    // YBR_FULL_422 keeps two bytes of samples per pixel (PS3.3 §C.7.6.3.1.2).
    const subsampled = this.dataSet.string('x00280004')?.trim() === 'YBR_FULL_422';
    const frameBits = rows * columns * (subsampled ? 2 : samples) * bitsAllocated;
    if (frameBits % 8 !== 0 && this.numberOfFrames > 1) {
      // 1-bit frames that do not end on a byte boundary would need bit shifting per frame.
      throw new Part10Error('bit-packed frames not aligned on bytes are not supported');
    }
    const frameBytes = Math.ceil(frameBits / 8);
    const start = element.dataOffset + frameBytes * (number - 1);
    if (start + frameBytes > element.dataOffset + element.length) throw new Part10Error('the pixel data is truncated');
    const bytes = this.dataSet.byteArray.subarray(start, start + frameBytes);
    return { bytes: this.nativeLittleEndian(bytes), transferSyntaxUid: explicitVrLittleEndian };
  }

  private encapsulatedFrame(element: dicomParser.Element, index: number): Uint8Array {
    const fragments = element.fragments ?? [];
    const offsets = element.basicOffsetTable ?? [];
    if (this.numberOfFrames === 1) return this.fragmentsBytes(element, 0, fragments.length);
    if (offsets.length === this.numberOfFrames) {
      return dicomParser.readEncapsulatedImageFrame(this.dataSet, element, index, offsets, fragments);
    }
    const extended = this.extendedOffsetTable();
    if (extended && extended.length === this.numberOfFrames) {
      const begin = extended[index] ?? 0;
      const end = extended[index + 1] ?? Number.POSITIVE_INFINITY;
      const first = fragments.findIndex((fragment) => fragment.offset >= begin);
      let count = 0;
      while (first + count < fragments.length && (fragments[first + count]?.offset ?? Infinity) < end) count += 1;
      return this.fragmentsBytes(element, first, count);
    }
    // No offset table: one fragment per frame is the usual (and for several syntaxes required) layout.
    if (fragments.length === this.numberOfFrames) return this.fragmentsBytes(element, index, 1);
    if (/^1\.2\.840\.10008\.1\.2\.4\.(50|51|57|70)$/.test(this.transferSyntaxUid)) {
      // JPEG: frames start at an SOI marker; dicom-parser finds them.
      const table = dicomParser.createJPEGBasicOffsetTable(this.dataSet, element, fragments);
      return dicomParser.readEncapsulatedImageFrame(this.dataSet, element, index, table, fragments);
    }
    throw new Part10Error('cannot tell which fragments make up each frame (no offset table)');
  }

  private fragmentsBytes(element: dicomParser.Element, first: number, count: number): Uint8Array {
    if (count === 1) {
      const fragment = element.fragments?.[first];
      if (!fragment) throw new Part10Error('missing fragment');
      return this.dataSet.byteArray.subarray(fragment.position, fragment.position + fragment.length);
    }
    return dicomParser.readEncapsulatedPixelDataFromFragments(this.dataSet, element, first, count, element.fragments);
  }

  private extendedOffsetTable(): number[] | undefined {
    const element = this.dataSet.elements.x7fe00001;
    if (!element) return undefined;
    const bytes = this.elementBytes(this.dataSet, element);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const offsets: number[] = [];
    for (let at = 0; at + 8 <= bytes.length; at += 8) offsets.push(Number(view.getBigUint64(at, true)));
    return offsets;
  }
}
