/**
 * Encodes Japanese text the way DICOM's ISO 2022 character sets want it (PS3.5 §6.1.2.5 and
 * Annex H): JIS X 0208 kanji/kana invoked with `ESC $ B`, the value-1 character set invoked
 * again before every delimiter (`^` `=` in person names, `\` between values, CR LF FF TAB) and
 * at the end of the value, and — for `ISO 2022 IR 13` — half-width katakana as 8-bit JIS X 0201
 * bytes in G1.
 *
 * Written by hand because neither Node (TextEncoder only encodes UTF-8) nor the project's
 * dependencies encode ISO-2022-JP, and the DICOM rules for where to switch back are specific
 * anyway. The JIS X 0208 table is not shipped: it is built once, lazily, by decoding every EUC-JP
 * code pair with the WHATWG decoder Node already has, so it is the same table browsers use.
 */

/** The ISO 2022 Japanese character sets this encoder writes (Specific Character Set value 1). */
export type Iso2022JapaneseCharacterSet = 'ISO 2022 IR 87' | 'ISO 2022 IR 13';

export class Iso2022EncodingError extends Error {
  readonly character: string;
  constructor(character: string, characterSet: Iso2022JapaneseCharacterSet) {
    super(
      `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} cannot be encoded in ${characterSet}`,
    );
    this.name = 'Iso2022EncodingError';
    this.character = character;
  }
}

const ESC = 0x1b;
const TO_JIS_X_0208 = [ESC, 0x24, 0x42]; // ESC $ B
const TO_ASCII = [ESC, 0x28, 0x42]; // ESC ( B
const TO_JIS_X_0201_ROMAN = [ESC, 0x28, 0x4a]; // ESC ( J

let jisX0208Table: Map<string, number> | null = null;

/** Unicode character → JIS X 0208 row/cell as `(first << 8) | second`, each byte 0x21–0x7E. */
function jisX0208(): Map<string, number> {
  if (jisX0208Table) return jisX0208Table;
  const pairs = new Uint8Array(94 * 94 * 2);
  for (let row = 0; row < 94; row++) {
    for (let cell = 0; cell < 94; cell++) {
      const at = (row * 94 + cell) * 2;
      pairs[at] = 0xa1 + row;
      pairs[at + 1] = 0xa1 + cell;
    }
  }
  // Every EUC-JP pair decodes to exactly one character (U+FFFD when unassigned), so the
  // decoded string lines up with the pairs; the first pair wins for the few duplicated
  // characters, as in the WHATWG encoder.
  const decoded = [...new TextDecoder('euc-jp').decode(pairs)];
  const table = new Map<string, number>();
  decoded.forEach((character, index) => {
    if (character === '\uFFFD' || table.has(character)) return;
    const row = Math.floor(index / 94);
    const cell = index % 94;
    table.set(character, ((0x21 + row) << 8) | (0x21 + cell));
  });
  jisX0208Table = table;
  return table;
}

/**
 * The bytes of one DICOM string value (multi-values joined by `\`) in `characterSet`, which is
 * Specific Character Set value 1 (`''` → written as `\ISO 2022 IR 87`, or `ISO 2022 IR 13`),
 * with ISO 2022 IR 87 as value 2.
 */
export function encodeIso2022Japanese(text: string, characterSet: Iso2022JapaneseCharacterSet): Uint8Array {
  const table = jisX0208();
  const bytes: number[] = [];
  const backToG0 = characterSet === 'ISO 2022 IR 13' ? TO_JIS_X_0201_ROMAN : TO_ASCII;
  let inJisX0208 = false;
  const leaveJisX0208 = () => {
    if (inJisX0208) bytes.push(...backToG0);
    inJisX0208 = false;
  };
  for (const character of text) {
    const code = character.codePointAt(0)!;
    if (code < 0x80 && code !== ESC) {
      // Any single-byte character (the delimiters above all) is read in value 1's G0 set.
      leaveJisX0208();
      bytes.push(code);
    } else if (code >= 0xff61 && code <= 0xff9f && characterSet === 'ISO 2022 IR 13') {
      // Half-width katakana live in G1 (JIS X 0201 katakana), which ESC $ B leaves alone,
      // but a reader expects value 1 back in G0 before them too.
      leaveJisX0208();
      bytes.push(code - 0xff61 + 0xa1);
    } else {
      const jis = table.get(character);
      if (jis === undefined) throw new Iso2022EncodingError(character, characterSet);
      if (!inJisX0208) bytes.push(...TO_JIS_X_0208);
      inJisX0208 = true;
      bytes.push(jis >> 8, jis & 0xff);
    }
  }
  leaveJisX0208();
  return Uint8Array.from(bytes);
}

/** The Specific Character Set (0008,0005) values that go with `characterSet`. */
export function specificCharacterSetValues(characterSet: Iso2022JapaneseCharacterSet): string[] {
  return characterSet === 'ISO 2022 IR 13' ? ['ISO 2022 IR 13', 'ISO 2022 IR 87'] : ['', 'ISO 2022 IR 87'];
}
