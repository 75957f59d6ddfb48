import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readInstanceIdentity } from './part10-identity.ts';
import { Part10Error, Part10Instance } from './part10-instance.ts';

const TEST_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const CHARSET_FILES = '/usr/lib/python3/dist-packages/pydicom/data/charset_files';

/** The file cut into chunks of `size` bytes, as a multipart reader hands them on. */
function chunked(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
}

describe('readInstanceIdentity', () => {
  it.each([
    join(CHARSET_FILES, 'chrH32.dcm'), // ISO 2022 IR 13 \ ISO 2022 IR 87
    join(CHARSET_FILES, 'chrH31.dcm'),
    join(TEST_FILES, 'CT_small.dcm'),
    join(TEST_FILES, 'MR_small_implicit.dcm'),
    join(TEST_FILES, 'MR_small_bigendian.dcm'),
    join(TEST_FILES, 'image_dfl.dcm'), // deflated: read from the whole file
    join(TEST_FILES, 'JPEG2000.dcm'),
  ])('reads the UIDs of %s from its chunks', async (path) => {
    const bytes = await readFile(path);
    const expected = Part10Instance.parse(bytes);
    const identity = readInstanceIdentity(chunked(bytes, 1000), bytes.length);
    expect(identity).toEqual({
      sopInstanceUid: expected.sopInstanceUid,
      studyInstanceUid: expected.studyInstanceUid,
      seriesInstanceUid: expected.seriesInstanceUid,
      transferSyntaxUid: expected.transferSyntaxUid,
    });
  });

  it('refuses bytes that are no DICOM', () => {
    const junk = Buffer.alloc(500, 7);
    expect(() => readInstanceIdentity([junk], junk.length)).toThrow(Part10Error);
  });
});
