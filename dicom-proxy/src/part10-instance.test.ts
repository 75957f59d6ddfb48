import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Part10Error, Part10Instance } from './part10-instance.ts';

const TEST_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const CHARSET_FILES = '/usr/lib/python3/dist-packages/pydicom/data/charset_files';
const load = (path: string) => Part10Instance.parse(readFileSync(path));

/** What pydicom (Debian's python3-pydicom) says about a file: syntax, frames, encapsulated frame sizes or native length. */
function pydicomView(path: string): { ts: string; frames: number; sizes: number[] } {
  const script = `
import json, sys, pydicom
from pydicom.encaps import generate_pixel_data_frame
d = pydicom.dcmread(sys.argv[1])
n = int(d.get('NumberOfFrames', 1) or 1)
ts = str(d.file_meta.TransferSyntaxUID)
if ts in ('1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99'):
    sizes = [len(d.PixelData) // n] * n
else:
    sizes = [len(f) for f in generate_pixel_data_frame(d.PixelData, n)]
print(json.dumps({'ts': ts, 'frames': n, 'sizes': sizes}))`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8' })) as {
    ts: string;
    frames: number;
    sizes: number[];
  };
}

describe('Part10Instance frames, compared with pydicom', () => {
  it.each([
    'CT_small.dcm', // explicit VR little endian
    'MR_small_implicit.dcm', // implicit VR little endian
    'MR_small_bigendian.dcm', // explicit VR big endian
    'image_dfl.dcm', // deflated
    'MR_small_RLE.dcm',
    'SC_rgb_rle_2frame.dcm',
    'SC_rgb_rle_16bit_2frame.dcm',
    'rtdose.dcm', // 15 native frames
    'rtdose_rle.dcm', // 15 RLE frames
    'JPEG-lossy.dcm', // JPEG extended
    'SC_rgb_jpeg_dcmtk.dcm', // JPEG baseline
    'SC_rgb_jpeg_gdcm.dcm', // JPEG lossless SV1
    'MR_small_jpeg_ls_lossless.dcm',
    'MR_small_jp2klossless.dcm',
    'JPEG2000.dcm',
    'SC_ybr_full_422_uncompressed.dcm',
  ])('%s', (name) => {
    const path = join(TEST_FILES, name);
    const expected = pydicomView(path);
    const instance = load(path);
    expect(instance.transferSyntaxUid).toBe(expected.ts);
    expect(instance.numberOfFrames).toBe(expected.frames);
    const sizes = Array.from({ length: instance.numberOfFrames }, (_, i) => instance.frame(i + 1).bytes.length);
    // pydicom's fragments may keep a trailing pad byte; ours too (both return the stored bytes).
    expect(sizes).toEqual(expected.sizes);
  });

  it('returns big endian pixels as little endian', () => {
    const little = load(join(TEST_FILES, 'MR_small.dcm')).frame(1);
    const big = load(join(TEST_FILES, 'MR_small_bigendian.dcm')).frame(1);
    expect(big.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
    expect(Buffer.compare(Buffer.from(big.bytes), Buffer.from(little.bytes))).toBe(0);
  });

  it('refuses frames out of range and files that are not Part 10', () => {
    expect(() => load(join(TEST_FILES, 'CT_small.dcm')).frame(2)).toThrow(Part10Error);
    expect(() => load(join(TEST_FILES, 'no_meta.dcm'))).toThrow(Part10Error);
    expect(() => load(join(TEST_FILES, 'MR_truncated.dcm'))).toThrow(Part10Error);
  });
});

describe('Part10Instance.toDicomJson', () => {
  const instanceUrl = 'http://proxy/dicom-web/studies/1/series/2/instances/3';

  it('maps VRs as PS3.18 §F.2 has them', () => {
    const json = load(join(TEST_FILES, 'CT_small.dcm')).toDicomJson({ instanceUrl });
    expect(json['00080060']).toEqual({ vr: 'CS', Value: ['CT'] });
    expect(json['00280010']).toEqual({ vr: 'US', Value: [128] });
    expect(json['00200032']?.vr).toBe('DS');
    expect(json['00200032']?.Value).toHaveLength(3);
    expect(typeof json['00200032']?.Value?.[0]).toBe('number');
    expect(json['7FE00010']).toEqual({ vr: 'OW', BulkDataURI: `${instanceUrl}/bulk/7FE00010` });
    expect(Object.keys(json).some((tag) => tag.startsWith('0002'))).toBe(false);
  });

  it('reads implicit VR with the dictionary, including sequences', () => {
    const json = load(join(TEST_FILES, 'rtplan.dcm')).toDicomJson({ instanceUrl });
    expect(json['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Last^First^mid^pre' }] });
    const beams = json['300A00B0'];
    expect(beams?.vr).toBe('SQ');
    expect(beams?.Value?.length).toBeGreaterThan(0);
  });

  it('decodes Japanese text in nested sequences with their own character set (chrSQEncoding.dcm)', () => {
    const json = load(join(CHARSET_FILES, 'chrSQEncoding.dcm')).toDicomJson({ instanceUrl });
    const item = json['00321064']?.Value?.[0] as Record<string, { Value?: unknown[] }> | undefined;
    expect(item?.['00100010']?.Value?.[0]).toEqual({
      Alphabetic: 'ﾔﾏﾀﾞ^ﾀﾛｳ',
      Ideographic: '山田^太郎',
      Phonetic: 'やまだ^たろう',
    });
    // chrSQEncoding1.dcm: the sequence inherits the dataset's ISO 2022 set.
    const inherited = load(join(CHARSET_FILES, 'chrSQEncoding1.dcm')).toDicomJson({ instanceUrl });
    const inheritedItem = inherited['00321064']?.Value?.[0] as Record<string, { Value?: unknown[] }> | undefined;
    expect(inheritedItem?.['00100010']?.Value?.[0]).toEqual({
      Alphabetic: 'ﾔﾏﾀﾞ^ﾀﾛｳ',
      Ideographic: '山田^太郎',
      Phonetic: 'やまだ^たろう',
    });
  });

  it('resolves a BulkDataURI path back to the bytes', () => {
    const instance = load(join(TEST_FILES, 'SC_rgb_rle_2frame.dcm'));
    const json = instance.toDicomJson({ instanceUrl });
    expect(json['7FE00010']?.BulkDataURI).toBe(`${instanceUrl}/bulk/7FE00010`);
    const frames = instance.bulkData('7FE00010');
    expect(frames?.map((f) => f.length)).toEqual([instance.frame(1).bytes.length, instance.frame(2).bytes.length]);
    expect(instance.bulkData('00100010/0/00100010')).toBeUndefined();
  });
});
