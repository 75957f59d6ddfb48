import { describe, expect, it } from 'vitest';
import { encodeIso2022Japanese, Iso2022EncodingError } from './iso-2022-jp-encoding.ts';

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

describe('ISO 2022 Japanese encoding for DICOM', () => {
  it('encodes the PS3.5 H.3.1 person name example byte for byte', () => {
    const bytes = encodeIso2022Japanese('Yamada^Tarou=山田^太郎=やまだ^たろう', 'ISO 2022 IR 87');
    expect(latin1(bytes)).toBe('Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B');
  });

  it('encodes the PS3.5 H.3.2 example (half-width katakana in G1, ESC ( J back to romaji)', () => {
    const bytes = encodeIso2022Japanese('ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう', 'ISO 2022 IR 13');
    expect(Buffer.from(bytes).subarray(0, 9)).toEqual(
      Buffer.from([0xd4, 0xcf, 0xc0, 0xde, 0x5e, 0xc0, 0xdb, 0xb3, 0x3d]),
    );
    expect(latin1(bytes).slice(9)).toBe('\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J');
  });

  it('round-trips through the WHATWG ISO-2022-JP decoder', () => {
    const text = '胸部単純CT 肺野条件\\離島中央診療所';
    expect(new TextDecoder('iso-2022-jp').decode(encodeIso2022Japanese(text, 'ISO 2022 IR 87'))).toBe(text);
  });

  it('refuses characters outside JIS X 0208 with a typed error', () => {
    expect(() => encodeIso2022Japanese('😀', 'ISO 2022 IR 87')).toThrow(Iso2022EncodingError);
    expect(() => encodeIso2022Japanese('ﾔ', 'ISO 2022 IR 87')).toThrow(Iso2022EncodingError);
  });
});
