import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FrameDecodingError,
  decodableTransferSyntaxes,
  decodeFrame,
  imagePixelDescription,
  transcodeFrameToNative,
} from './frame-transcoding.ts';
import { Part10Instance } from './part10-instance.ts';

const TEST_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const load = (name: string) => Part10Instance.parse(readFileSync(join(TEST_FILES, name)));

describe('decodeFrame', () => {
  // pydicom ships one 64×64 MR slice stored uncompressed and in three lossless syntaxes.
  const native = load('MR_small.dcm');

  it.each(['MR_small_RLE.dcm', 'MR_small_jp2klossless.dcm', 'MR_small_jpeg_ls_lossless.dcm'])(
    'decodes %s to the very pixels of the uncompressed file',
    async (name) => {
      const compressed = load(name);
      const frame = await decodeFrame(compressed, 1);
      expect(frame.bytes.byteLength).toBe(64 * 64 * 2);
      expect(Buffer.compare(Buffer.from(frame.bytes), Buffer.from(native.frame(1).bytes))).toBe(0);
      expect(frame).toMatchObject({
        rows: 64,
        columns: 64,
        bitsAllocated: 16,
        photometricInterpretation: 'MONOCHROME2',
      });
      expect(Buffer.from(await transcodeFrameToNative(compressed, 1))).toEqual(Buffer.from(frame.bytes));
    },
  );

  it('returns native frames as they are (big endian swapped)', async () => {
    const frame = await decodeFrame(load('MR_small_bigendian.dcm'), 1);
    expect(Buffer.compare(Buffer.from(frame.bytes), Buffer.from(native.frame(1).bytes))).toBe(0);
  });

  it('decodes each frame of a multi-frame RGB RLE instance to the colours pydicom documents', async () => {
    const rle = load('SC_rgb_rle_2frame.dcm');
    const [first, second] = await Promise.all([decodeFrame(rle, 1), decodeFrame(rle, 2)]);
    expect(first.bytes.byteLength).toBe(100 * 100 * 3);
    expect(first).toMatchObject({ photometricInterpretation: 'RGB', planarConfiguration: 0 });
    // Ten horizontal bands (pydicom's test_rle_pixel_data); frame 2 is frame 1 inverted.
    const column50 = (frame: { bytes: Uint8Array }) =>
      [5, 15, 25, 35, 45, 55, 65, 75, 85, 95].map((row) => [
        ...frame.bytes.subarray((row * 100 + 50) * 3, (row * 100 + 50) * 3 + 3),
      ]);
    expect(column50(first)).toEqual([
      [255, 0, 0],
      [255, 128, 128],
      [0, 255, 0],
      [128, 255, 128],
      [0, 0, 255],
      [128, 128, 255],
      [0, 0, 0],
      [64, 64, 64],
      [192, 192, 192],
      [255, 255, 255],
    ]);
    expect(column50(second)).toEqual(column50(first).map((rgb) => rgb.map((value) => 255 - value)));
  });

  it('decodes lossy JPEG 2000 to the declared size', async () => {
    const j2k = load('JPEG2000.dcm');
    const frame = await decodeFrame(j2k, 1);
    expect(frame.bytes.byteLength).toBe(1024 * 256 * 2);
  });

  it('cuts the even padding of an odd-sized frame', async () => {
    const frame = await decodeFrame(load('SC_rgb_small_odd_jpeg.dcm'), 1);
    expect(frame.bytes.byteLength).toBe(3 * 3 * 3);
  });

  it('refuses to pass off decoded YBR JPEG as the stored layout, and syntaxes it cannot decode', async () => {
    const ybr = load('SC_rgb_jpeg_dcmtk.dcm');
    expect(imagePixelDescription(ybr).photometricInterpretation).toBe('YBR_FULL');
    expect((await decodeFrame(ybr, 1)).photometricInterpretation).toBe('RGB');
    await expect(transcodeFrameToNative(ybr, 1)).rejects.toMatchObject({ reason: 'layout-changed' });
    const extended = load('JPGExtended.dcm'); // JPEG extended (process 2 & 4): not in dcmjs-codecs
    expect(decodableTransferSyntaxes.has(extended.transferSyntaxUid)).toBe(false);
    await expect(decodeFrame(extended, 1)).rejects.toBeInstanceOf(FrameDecodingError);
  });

  it('names exactly the syntaxes dcmjs-codecs has decoders for', async () => {
    const codecs = ((await import('dcmjs-codecs')) as unknown as { default: typeof import('dcmjs-codecs') }).default;
    // Not in the package's declarations: the codec for a syntax, or an error when there is none.
    const { getCodec } = codecs.codecs.Codec as unknown as { getCodec(uid: string): unknown };
    const nativeOrUnsupported = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2']);
    const library = Object.values(codecs.constants.TransferSyntax).filter((uid) => {
      if (nativeOrUnsupported.has(uid)) return false;
      try {
        getCodec(uid);
        return true;
      } catch {
        return false;
      }
    });
    expect(new Set(library)).toEqual(decodableTransferSyntaxes);
  });
});
