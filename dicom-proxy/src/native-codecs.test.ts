import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from './frame-transcoding.ts';
import { nativeCodecs, nativeCodecsLoaded, releaseNativeCodecs } from './native-codecs.ts';
import { Part10Instance } from './part10-instance.ts';

const RLE_FILE = '/usr/lib/python3/dist-packages/pydicom/data/test_files/MR_small_RLE.dcm';

describe('nativeCodecs', () => {
  it('instantiates once, and again after a release', async () => {
    const [first, second] = await Promise.all([nativeCodecs(), nativeCodecs()]);
    expect(first).toBe(second);
    expect(nativeCodecsLoaded()).toBe(true);
    expect(first.NativeCodecs.isInitialized()).toBe(true);
    releaseNativeCodecs();
    expect(nativeCodecsLoaded()).toBe(false);
    expect(first.NativeCodecs.isInitialized()).toBe(false);
    // The next frame that needs decoding brings it back.
    const frame = await decodeFrame(Part10Instance.parse(readFileSync(RLE_FILE)), 1);
    expect(frame.bytes.byteLength).toBe(64 * 64 * 2);
    expect(nativeCodecsLoaded()).toBe(true);
    releaseNativeCodecs();
  });
});
