import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { describe, expect, it } from 'vitest';
import { decodeDicomText, decodePersonName, decodePersonNames } from './specific-character-set.ts';

const charsetFiles = '/usr/lib/python3/dist-packages/pydicom/data/charset_files';

/** The raw bytes of a top-level element and the file's Specific Character Set. */
function rawElement(file: string, tag: string): { bytes: Uint8Array; specificCharacterSet: string[] } {
  const dataSet = dicomParser.parseDicom(readFileSync(join(charsetFiles, file)));
  const element = dataSet.elements[tag];
  if (!element) throw new Error(`${file} has no ${tag}`);
  const bytes = dataSet.byteArray.subarray(element.dataOffset, element.dataOffset + element.length);
  const scs = dataSet.string('x00080005') ?? '';
  return { bytes, specificCharacterSet: scs.split('\\') };
}

function patientName(file: string): string {
  const { bytes, specificCharacterSet } = rawElement(file, 'x00100010');
  return decodeDicomText(bytes, specificCharacterSet, 'PN');
}

describe('decodeDicomText', () => {
  // Expected strings are what `pydicom.dcmread(path).PatientName` prints (pydicom 2.x, Debian).
  it.each([
    ['chrH31.dcm', 'Yamada^Tarou=山田^太郎=やまだ^たろう'],
    ['chrH32.dcm', 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう'],
    ['chrJapMulti.dcm', 'やまだ^たろう'],
    ['chrJapMultiExplicitIR6.dcm', 'やまだ^たろう'],
    ['chrX1.dcm', 'Wang^XiaoDong=王^小東='],
    ['chrX2.dcm', 'Wang^XiaoDong=王^小东='],
    ['chrI2.dcm', 'Hong^Gildong=洪^吉洞=홍^길동'],
    ['chrKoreanMulti.dcm', '김희중'],
    ['chrFren.dcm', 'Buc^Jérôme'],
    ['chrGerm.dcm', 'Äneas^Rüdiger'],
    ['chrGreek.dcm', 'Διονυσιος'],
    ['chrRuss.dcm', 'Люкceмбypг'],
    ['chrArab.dcm', 'قباني^لنزار'],
    ['chrHbrw.dcm', 'שרון^דבורה'],
  ])('decodes the patient name of %s like pydicom', (file, expected) => {
    expect(patientName(file)).toBe(expected);
  });

  it('keeps codes, dates and UIDs in the default repertoire whatever the character set', () => {
    const bytes = new TextEncoder().encode('1.2.3\0');
    expect(decodeDicomText(bytes, ['ISO 2022 IR 13', 'ISO 2022 IR 87'], 'UI')).toBe('1.2.3');
  });

  it('resets to the default set at a value delimiter and keeps multi-valued text apart', () => {
    // 山田 in JIS X 0208, then `\`, then ASCII with no escape back (the reset does it).
    const bytes = Uint8Array.from([0x1b, 0x24, 0x42, 0x3b, 0x33, 0x45, 0x44, 0x1b, 0x28, 0x42, 0x5c, 0x41, 0x42]);
    expect(decodeDicomText(bytes, ['', 'ISO 2022 IR 87'], 'LO')).toBe('山田\\AB');
  });

  it('does not take a `\\` or `^` byte inside a two-byte kanji for a delimiter', () => {
    // JIS 0x245E is ま (`$^`) and 0x3C5C holds a `\\` byte; EUC-JP gives the expected characters.
    const bytes = Uint8Array.from([0x1b, 0x24, 0x42, 0x24, 0x5e, 0x3c, 0x5c, 0x1b, 0x28, 0x42]);
    const expected = new TextDecoder('euc-jp').decode(Uint8Array.from([0xa4, 0xde, 0xbc, 0xdc]));
    expect(decodeDicomText(bytes, ['', 'ISO 2022 IR 87'], 'LO')).toBe(expected);
    expect(decodePersonNames(bytes, ['', 'ISO 2022 IR 87'])).toEqual([{ Alphabetic: expected }]);
  });

  it('decodes JIS X 0212 (ISO 2022 IR 159)', () => {
    // JIS X 0212 0x3021 (a kanji); EUC-JP code set 3 gives the expected character.
    const bytes = Uint8Array.from([0x1b, 0x24, 0x28, 0x44, 0x30, 0x21, 0x1b, 0x28, 0x42]);
    const expected = new TextDecoder('euc-jp').decode(Uint8Array.from([0x8f, 0xb0, 0xa1]));
    expect(expected).not.toContain('\ufffd');
    expect(decodeDicomText(bytes, ['', 'ISO 2022 IR 87', 'ISO 2022 IR 159'], 'LO')).toBe(expected);
  });

  it('decodes ISO_IR 13 half-width katakana without code extensions', () => {
    expect(decodeDicomText(Uint8Array.from([0xd4, 0xcf, 0xc0, 0xde, 0x20]), ['ISO_IR 13'], 'SH')).toBe('ﾔﾏﾀﾞ');
  });

  it('decodes Latin-2 (ISO_IR 101)', () => {
    expect(decodeDicomText(Uint8Array.from([0xa3, 0xf3, 0x64, 0xbc]), ['ISO_IR 101'], 'LO')).toBe('Łódź');
  });

  it('keeps undecodable bytes visible instead of failing on an unknown term', () => {
    expect(decodeDicomText(Uint8Array.from([0x41, 0xe9]), ['ISO_IR 999'], 'LO')).toBe('Aé');
  });
});

describe('decodePersonName', () => {
  it('splits the three component groups of chrH32.dcm', () => {
    const { bytes, specificCharacterSet } = rawElement('chrH32.dcm', 'x00100010');
    expect(decodePersonName(bytes, specificCharacterSet)).toEqual({
      Alphabetic: 'ﾔﾏﾀﾞ^ﾀﾛｳ',
      Ideographic: '山田^太郎',
      Phonetic: 'やまだ^たろう',
    });
  });

  it('leaves out empty groups (chrX1.dcm ends with `=`)', () => {
    const { bytes, specificCharacterSet } = rawElement('chrX1.dcm', 'x00100010');
    expect(decodePersonName(bytes, specificCharacterSet)).toEqual({
      Alphabetic: 'Wang^XiaoDong',
      Ideographic: '王^小東',
    });
  });

  it('returns every value of a multi-valued name (chrFrenMulti.dcm)', () => {
    const { bytes, specificCharacterSet } = rawElement('chrFrenMulti.dcm', 'x00101001');
    expect(decodePersonNames(bytes, specificCharacterSet)).toEqual([
      { Alphabetic: 'Buc^Jérôme' },
      { Alphabetic: 'Buc^Jérôme' },
    ]);
  });
});
