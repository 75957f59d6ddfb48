/**
 * Specific Character Set (0008,0005) → Unicode, per PS3.5 §6.1 and PS3.3 §C.12.1.1.2.
 *
 * Written by hand because no maintained JS library decodes DICOM's ISO 2022 code extensions
 * (dicom-parser reads bytes as Latin-1; dcmjs knows only single-byte sets and UTF-8). The actual
 * byte → character tables are the platform's TextDecoder (WHATWG encodings); this module only
 * tracks which set is designated to G0/G1 as escape sequences and delimiters go by.
 */
import { TextDecoder } from 'node:util';

export interface PersonNameGroups {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}

/** How the bytes of one run are turned into text. */
type CharsetDecoder =
  | { kind: 'ascii' }
  | { kind: 'single-byte'; label: string } // a TextDecoder label (or Node's true latin1)
  | { kind: 'jis-x-0208' } // 94×94 set in G0, 7-bit pairs
  | { kind: 'jis-x-0212' }
  | { kind: 'jis-x-0201-katakana' } // G1, 0xA1–0xDF
  | { kind: 'multi-byte-g1'; label: string }; // e.g. KS X 1001 / GB 2312 in G1: euc-kr / gbk

/** Which set is designated to G0 (bytes < 0x80) and G1 (bytes >= 0x80). */
interface CodeState {
  g0: CharsetDecoder;
  g1: CharsetDecoder | undefined;
}

const ascii: CharsetDecoder = { kind: 'ascii' };

/** Single-byte sets shared by `ISO_IR n` (no extensions) and `ISO 2022 IR n` (G1 via ESC - x). */
const singleByteLabels: Record<string, string> = {
  '100': 'latin1',
  '101': 'iso-8859-2',
  '109': 'iso-8859-3',
  '110': 'iso-8859-4',
  '144': 'iso-8859-5',
  '127': 'iso-8859-6',
  '126': 'iso-8859-7',
  '138': 'iso-8859-8',
  '148': 'windows-1254', // ISO 8859-9; WHATWG maps the label to its superset
  '166': 'windows-874', // TIS 620-2533
  '203': 'iso-8859-15',
};

/** `ESC - F` final bytes designating the single-byte sets above to G1 (PS3.3 Table C.12-3). */
const g1SingleByteFinals: Record<number, string> = {
  0x41: '100',
  0x42: '101',
  0x43: '109',
  0x44: '110',
  0x4c: '144',
  0x47: '127',
  0x46: '126',
  0x48: '138',
  0x4d: '148',
  0x54: '166',
  0x62: '203',
};

/** Character sets used without code extensions (one value, no escape sequences). */
function plainDecoder(term: string): CharsetDecoder | undefined {
  if (term === '' || term === 'ISO_IR 6') return ascii;
  if (term === 'ISO_IR 192') return { kind: 'single-byte', label: 'utf-8' };
  if (term === 'GB18030') return { kind: 'single-byte', label: 'gb18030' };
  if (term === 'GBK') return { kind: 'single-byte', label: 'gbk' };
  // JIS X 0201: Roman in G0 (ASCII for DICOM's purposes), half-width katakana in 0xA1–0xDF.
  if (term === 'ISO_IR 13') return { kind: 'single-byte', label: 'shift_jis' };
  const number = /^ISO_IR (\d+)$/.exec(term)?.[1];
  const label = number === undefined ? undefined : singleByteLabels[number];
  return label === undefined ? undefined : { kind: 'single-byte', label };
}

/** The initial G0/G1 of the first (default) value of a multi-valued Specific Character Set. */
function initialState(term: string): CodeState {
  const normalized = term.replace(/^ISO 2022 IR /, 'ISO_IR ');
  if (normalized === 'ISO_IR 13') return { g0: ascii, g1: { kind: 'jis-x-0201-katakana' } };
  const number = /^ISO_IR (\d+)$/.exec(normalized)?.[1];
  const label = number === undefined ? undefined : singleByteLabels[number];
  return { g0: ascii, g1: label === undefined ? undefined : { kind: 'single-byte', label } };
}

const decoders = new Map<string, TextDecoder>();
function textDecoder(label: string): TextDecoder {
  let decoder = decoders.get(label);
  if (!decoder) {
    decoder = new TextDecoder(label, { fatal: false });
    decoders.set(label, decoder);
  }
  return decoder;
}

function decodeRun(decoder: CharsetDecoder, bytes: Uint8Array): string {
  switch (decoder.kind) {
    case 'ascii':
      return Buffer.from(bytes).toString('latin1');
    case 'single-byte':
      // WHATWG's "latin1" is windows-1252; DICOM's ISO_IR 100 is true ISO 8859-1.
      return decoder.label === 'latin1'
        ? Buffer.from(bytes).toString('latin1')
        : textDecoder(decoder.label).decode(bytes);
    case 'jis-x-0208':
      // Set the high bit of each 7-bit byte: the pairs become EUC-JP code set 1.
      return textDecoder('euc-jp').decode(bytes.map((byte) => byte | 0x80));
    case 'jis-x-0212': {
      // EUC-JP code set 3: SS3 (0x8F) before each high-bit pair.
      const euc = new Uint8Array(Math.floor(bytes.length / 2) * 3);
      for (let i = 0, j = 0; i + 1 < bytes.length; i += 2, j += 3) {
        euc[j] = 0x8f;
        euc[j + 1] = (bytes[i] ?? 0) | 0x80;
        euc[j + 2] = (bytes[i + 1] ?? 0) | 0x80;
      }
      return textDecoder('euc-jp').decode(euc);
    }
    case 'jis-x-0201-katakana':
      return textDecoder('shift_jis').decode(bytes);
    case 'multi-byte-g1':
      return textDecoder(decoder.label).decode(bytes);
  }
}

const ESC = 0x1b;

/**
 * Reads one escape sequence at `at` (the ESC byte), updates the state, and returns its length;
 * 0 when it is not one DICOM defines (the ESC is then dropped as a lone control byte).
 */
function applyEscape(bytes: Uint8Array, at: number, state: CodeState): number {
  const b1 = bytes[at + 1];
  const b2 = bytes[at + 2];
  const b3 = bytes[at + 3];
  if (b1 === 0x28 && b2 === 0x42) return ((state.g0 = ascii), 3); // ESC ( B: ISO 2022 IR 6
  if (b1 === 0x28 && b2 === 0x4a) return ((state.g0 = ascii), 3); // ESC ( J: JIS X 0201 Roman
  if (b1 === 0x29 && b2 === 0x49) return ((state.g1 = { kind: 'jis-x-0201-katakana' }), 3); // ESC ) I
  if (b1 === 0x24 && b2 === 0x42) return ((state.g0 = { kind: 'jis-x-0208' }), 3); // ESC $ B: IR 87
  if (b1 === 0x24 && b2 === 0x28 && b3 === 0x44) return ((state.g0 = { kind: 'jis-x-0212' }), 4); // ESC $ ( D: IR 159
  if (b1 === 0x24 && b2 === 0x29 && b3 === 0x43) return ((state.g1 = { kind: 'multi-byte-g1', label: 'euc-kr' }), 4); // IR 149
  if (b1 === 0x24 && b2 === 0x29 && b3 === 0x41) return ((state.g1 = { kind: 'multi-byte-g1', label: 'gbk' }), 4); // IR 58
  if (b1 === 0x2d && b2 !== undefined) {
    const number = g1SingleByteFinals[b2];
    const label = number === undefined ? undefined : singleByteLabels[number];
    if (label !== undefined) return ((state.g1 = { kind: 'single-byte', label }), 3);
  }
  return 0;
}

function isSingleByteG0(state: CodeState): boolean {
  return state.g0.kind === 'ascii';
}

/**
 * Decodes ISO 2022 text. Delimiter bytes (only while G0 holds a single-byte set: in a 94×94 set
 * they are halves of a character) end the escape state: PS3.5 §6.1.2.5.3 has encoders return to
 * the default repertoire before `^`, `=`, `\` and control characters, and decoders reset there.
 */
function decodeIso2022(bytes: Uint8Array, initial: CodeState, delimiters: ReadonlySet<number>): string {
  const state: CodeState = { ...initial };
  let text = '';
  let runStart = 0;
  let runDecoder: CharsetDecoder | undefined;
  const flush = (end: number) => {
    if (runDecoder && end > runStart) text += decodeRun(runDecoder, bytes.subarray(runStart, end));
    runDecoder = undefined;
    runStart = end;
  };
  for (let i = 0; i < bytes.length;) {
    const byte = bytes[i] ?? 0;
    if (byte === ESC) {
      flush(i);
      const length = applyEscape(bytes, i, state);
      i += Math.max(length, 1);
      runStart = i;
      continue;
    }
    if (byte < 0x80 && isSingleByteG0(state) && delimiters.has(byte)) {
      flush(i);
      text += String.fromCharCode(byte);
      state.g0 = initial.g0;
      state.g1 = initial.g1;
      i += 1;
      runStart = i;
      continue;
    }
    // Unassigned G1 (high bytes without a designation): Latin-1 keeps them visible, not lost.
    const decoder = byte < 0x80 ? state.g0 : (state.g1 ?? { kind: 'single-byte', label: 'latin1' });
    if (decoder !== runDecoder) {
      flush(i);
      runDecoder = decoder;
    }
    i += 1;
  }
  flush(bytes.length);
  return text;
}

/** Value Representations whose text follows the Specific Character Set (PS3.5 §6.1.2.3). */
const extendedTextVrs = new Set(['SH', 'LO', 'ST', 'LT', 'UT', 'UC', 'PN']);

const backslash = 0x5c;
const controlDelimiters = [0x0a, 0x0c, 0x0d, 0x09]; // LF, FF, CR, TAB

function delimitersFor(vr: string): ReadonlySet<number> {
  if (vr === 'PN') return new Set([0x5e, 0x3d, backslash]); // ^ = \
  if (vr === 'ST' || vr === 'LT' || vr === 'UT') return new Set(controlDelimiters);
  return new Set([backslash, ...controlDelimiters]);
}

function normalizeTerms(specificCharacterSet: readonly string[]): string[] {
  return specificCharacterSet.map((term) =>
    term
      .trim()
      .toUpperCase()
      .replace(/^ISO-IR/, 'ISO_IR'),
  );
}

function decodeRaw(bytes: Uint8Array, specificCharacterSet: readonly string[], vr: string): string {
  if (!extendedTextVrs.has(vr)) return Buffer.from(bytes).toString('latin1');
  const terms = normalizeTerms(specificCharacterSet);
  const usesExtensions = terms.length > 1 || terms.some((term) => term.startsWith('ISO 2022'));
  if (!usesExtensions) {
    const decoder = plainDecoder(terms[0] ?? '') ?? { kind: 'single-byte', label: 'latin1' };
    return decodeRun(decoder, bytes);
  }
  return decodeIso2022(bytes, initialState(terms[0] ?? ''), delimitersFor(vr));
}

/**
 * The whole value of a text element as Unicode: all its values still joined by `\`, trailing
 * padding (space or NUL) removed. `vr` decides whether the character set applies at all (only
 * SH, LO, ST, LT, UT, UC, PN use it; codes, dates and UIDs are always the default repertoire).
 */
export function decodeDicomText(bytes: Uint8Array, specificCharacterSet: string[], vr: string): string {
  return decodeRaw(bytes, specificCharacterSet, vr).replace(/[ \0]+$/, '');
}

function personNameGroups(value: string): PersonNameGroups {
  const [alphabetic, ideographic, phonetic] = value.split('=');
  const groups: PersonNameGroups = {};
  if (alphabetic) groups.Alphabetic = alphabetic;
  if (ideographic) groups.Ideographic = ideographic;
  if (phonetic) groups.Phonetic = phonetic;
  return groups;
}

/** Every value of a PN element, each split into its component groups (empty groups left out). */
export function decodePersonNames(bytes: Uint8Array, specificCharacterSet: string[]): PersonNameGroups[] {
  const text = decodeDicomText(bytes, specificCharacterSet, 'PN');
  if (text.length === 0) return [];
  // Splitting after decoding: a `\` or `=` byte inside a two-byte kanji is not a delimiter.
  return text.split('\\').map((value) => personNameGroups(value.trim()));
}

/** The first value of a PN element, split into its `Alphabetic`/`Ideographic`/`Phonetic` groups. */
export function decodePersonName(bytes: Uint8Array, specificCharacterSet: string[]): PersonNameGroups {
  return decodePersonNames(bytes, specificCharacterSet)[0] ?? {};
}
