import { inflateRawSync } from 'node:zlib';
import dicomParser from 'dicom-parser';
import { dictionaryVr } from './dicom-dictionary.ts';
import { Part10Error } from './part10-instance.ts';

/**
 * The UIDs of a Part 10 file, read from its head only: a study retrieve does not say which part
 * is which instance, and the pixel data need not be parsed (nor copied) to learn it. dicom-parser
 * stops at Series Instance UID, so text in any character set (ISO 2022 included) is never decoded.
 */

export interface InstanceIdentity {
  sopInstanceUid?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  transferSyntaxUid?: string;
}

/** Enough for the file meta and the identifying attributes of nearly every instance. */
export const IDENTITY_HEAD_BYTES = 64 * 1024;

function parse(bytes: Uint8Array): InstanceIdentity {
  let dataSet: dicomParser.DataSet;
  try {
    dataSet = dicomParser.parseDicom(bytes, {
      untilTag: 'x0020000e',
      inflater: (byteArray: Uint8Array, position: number) => {
        const inflated = inflateRawSync(byteArray.subarray(position));
        const full = new Uint8Array(position + inflated.length);
        full.set(byteArray.subarray(0, position), 0);
        full.set(inflated, position);
        return full;
      },
      vrCallback: (tag: string) => dictionaryVr(tag.slice(1).toUpperCase()),
    } as dicomParser.ParseDicomOptions);
  } catch (error) {
    throw new Part10Error('not a readable DICOM Part 10 head', { cause: error });
  }
  const text = (tag: string) => dataSet.string(tag)?.replace(/\0/g, '').trim() || undefined;
  const identity: InstanceIdentity = {};
  const sop = text('x00080018') ?? text('x00020003');
  const study = text('x0020000d');
  const series = text('x0020000e');
  const syntax = text('x00020010');
  if (sop) identity.sopInstanceUid = sop;
  if (study) identity.studyInstanceUid = study;
  if (series) identity.seriesInstanceUid = series;
  if (syntax) identity.transferSyntaxUid = syntax;
  return identity;
}

/**
 * Reads the identity from the first chunks of a file (`chunks` are not modified; only the head is
 * copied). Falls back to the whole file when the head is not enough (a deflated data set, an
 * unusually long header); throws `Part10Error` when the file is no DICOM.
 */
export function readInstanceIdentity(chunks: readonly Uint8Array[], size: number): InstanceIdentity {
  const headLength = Math.min(size, IDENTITY_HEAD_BYTES);
  const head = concatHead(chunks, headLength);
  try {
    const identity = parse(head);
    if (identity.sopInstanceUid && identity.seriesInstanceUid) return identity;
    if (headLength === size) return identity;
  } catch (error) {
    if (headLength === size) throw error;
  }
  return parse(concatHead(chunks, size));
}

function concatHead(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const first = chunks[0];
  if (first && first.byteLength >= length) return first.subarray(0, length);
  const head = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    if (at >= length) break;
    const take = Math.min(chunk.byteLength, length - at);
    head.set(chunk.subarray(0, take), at);
    at += take;
  }
  return head;
}
