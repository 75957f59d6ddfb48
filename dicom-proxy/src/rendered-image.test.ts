import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Part10Instance } from './part10-instance.ts';
import {
  ImageRenderingError,
  defaultThumbnailViewport,
  parseRenderingParameters,
  renderFrame,
  type RenderingParameters,
} from './rendered-image.ts';

const TEST_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const fileBytes = (name: string) => readFileSync(join(TEST_FILES, name));
const load = (name: string) => Part10Instance.parse(fileBytes(name));
const plain: RenderingParameters = { quality: 90 };

/** The decoded PNG: size, colour type and RGBA pixels. */
function png(bytes: Uint8Array) {
  const image = PNG.sync.read(Buffer.from(bytes));
  return { width: image.width, height: image.height, colorType: image.colorType, rgba: image.data };
}

const red = (rgba: Uint8Array, width: number, x: number, y: number) => rgba[(y * width + x) * 4] ?? -1;
const rgbAt = (rgba: Uint8Array, width: number, x: number, y: number) => [
  ...rgba.subarray((y * width + x) * 4, (y * width + x) * 4 + 3),
];

describe('parseRenderingParameters', () => {
  const parse = (query: string, resource: 'rendered' | 'thumbnail' = 'rendered') =>
    parseRenderingParameters(new URLSearchParams(query), resource);

  it('reads window, viewport and quality as PS3.18 writes them', () => {
    expect(parse('window=40,400,sigmoid&viewport=512,256&quality=75')).toEqual({
      window: { center: 40, width: 400, function: 'sigmoid' },
      viewport: { width: 512, height: 256 },
      quality: 75,
    });
    expect(parse('window=-600.5,1.5e3&viewport=64,64,10,20,30,40')).toEqual({
      window: { center: -600.5, width: 1500, function: 'linear' },
      viewport: { width: 64, height: 64, source: { x: 10, y: 20, width: 30, height: 40 } },
      quality: 90,
    });
    expect(parse('annotation=patient&accept=image/png')).toEqual({ quality: 90 });
    expect(parse('', 'thumbnail')).toEqual({ quality: 90, viewport: defaultThumbnailViewport });
    expect(parse('viewport=32,32', 'thumbnail').viewport).toEqual({ width: 32, height: 32 });
  });

  it.each([
    'window=40',
    'window=40,0,linear',
    'window=40,0.5,linear',
    'window=40,400,cubic',
    'window=a,b',
    'viewport=0,10',
    'viewport=10',
    'viewport=5000,10',
    'viewport=10,10,0,0,0,5',
    'viewport=10,10,-1,0,5,5',
    'quality=0',
    'quality=101',
    'quality=high',
    'size=10',
    'quality=10&quality=20',
  ])('refuses %s', (query) => {
    expect(() => parse(query)).toThrow(z.ZodError);
  });

  it('takes only a viewport for thumbnails', () => {
    expect(() => parse('window=40,400', 'thumbnail')).toThrow(z.ZodError);
    expect(() => parse('quality=50', 'thumbnail')).toThrow(z.ZodError);
  });
});

describe('renderFrame', () => {
  it('renders a CT slice as JPEG at its own size, and scaled to fit a viewport', async () => {
    const ct = load('CT_small.dcm');
    const full = await renderFrame(ct, 1, plain, 'image/jpeg');
    expect(full.mediaType).toBe('image/jpeg');
    expect(Buffer.from(full.bytes.subarray(0, 3))).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    const decoded = jpeg.decode(full.bytes, { useTArray: true });
    expect([decoded.width, decoded.height]).toEqual([128, 128]);
    const fitted = await renderFrame(ct, 1, { quality: 50, viewport: { width: 64, height: 32 } }, 'image/jpeg');
    expect([fitted.width, fitted.height]).toEqual([32, 32]);
    const small = jpeg.decode(fitted.bytes, { useTArray: true });
    expect([small.width, small.height]).toEqual([32, 32]);
    expect(fitted.bytes.byteLength).toBeLessThan(full.bytes.byteLength);
  });

  it('renders greyscale PNG, windowed by the instance, by the client, or by min/max', async () => {
    const mr = load('MR_small.dcm'); // WindowCenter 600, WindowWidth 1600
    const own = png((await renderFrame(mr, 1, plain, 'image/png')).bytes);
    expect([own.width, own.height, own.colorType]).toEqual([64, 64, 0]);
    const same = png(
      (await renderFrame(mr, 1, { ...plain, window: { center: 600, width: 1600, function: 'linear' } }, 'image/png'))
        .bytes,
    );
    expect(same.rgba).toEqual(own.rgba);
    const narrow = png(
      (await renderFrame(mr, 1, { ...plain, window: { center: 300, width: 200, function: 'linear' } }, 'image/png'))
        .bytes,
    );
    expect(narrow.rgba).not.toEqual(own.rgba);
    const sigmoid = png(
      (await renderFrame(mr, 1, { ...plain, window: { center: 600, width: 1600, function: 'sigmoid' } }, 'image/png'))
        .bytes,
    );
    expect(sigmoid.rgba).not.toEqual(own.rgba);
    // CT_small has no window: its min/max spans black to white.
    const ct = png((await renderFrame(load('CT_small.dcm'), 1, plain, 'image/png')).bytes);
    const reds = [...ct.rgba].filter((_, index) => index % 4 === 0);
    expect(Math.min(...reds)).toBe(0);
    expect(Math.max(...reds)).toBe(255);
  });

  it('renders compressed frames exactly like the uncompressed ones', async () => {
    const native = png((await renderFrame(load('MR_small.dcm'), 1, plain, 'image/png')).bytes);
    for (const name of ['MR_small_RLE.dcm', 'MR_small_jp2klossless.dcm', 'MR_small_bigendian.dcm']) {
      expect(png((await renderFrame(load(name), 1, plain, 'image/png')).bytes).rgba, name).toEqual(native.rgba);
    }
  });

  it('inverts MONOCHROME1', async () => {
    const bytes = fileBytes('MR_small.dcm');
    const at = bytes.indexOf('MONOCHROME2');
    expect(at).toBeGreaterThan(0);
    const inverted = Buffer.from(bytes);
    inverted.write('MONOCHROME1', at, 'latin1');
    const two = png((await renderFrame(Part10Instance.parse(bytes), 1, plain, 'image/png')).bytes);
    const one = png((await renderFrame(Part10Instance.parse(inverted), 1, plain, 'image/png')).bytes);
    for (const [x, y] of [
      [10, 10],
      [32, 32],
      [50, 20],
    ] as const) {
      expect(red(one.rgba, 64, x, y)).toBe(255 - red(two.rgba, 64, x, y));
    }
  });

  it('renders RGB and YBR colour, each frame of a multi-frame instance, and a source region', async () => {
    const rle = load('SC_rgb_rle_2frame.dcm'); // horizontal bands, red at the top; frame 2 inverted
    const first = png((await renderFrame(rle, 1, plain, 'image/png')).bytes);
    expect(first.colorType).toBe(2);
    expect(rgbAt(first.rgba, 100, 50, 5)).toEqual([255, 0, 0]);
    expect(rgbAt(first.rgba, 100, 50, 25)).toEqual([0, 255, 0]);
    const second = png((await renderFrame(rle, 2, plain, 'image/png')).bytes);
    expect(rgbAt(second.rgba, 100, 50, 5)).toEqual([0, 255, 255]);
    const ybr = png((await renderFrame(load('SC_rgb_jpeg_dcmtk.dcm'), 1, plain, 'image/png')).bytes);
    const [r = 0, g = 0, b = 0] = rgbAt(ybr.rgba, 100, 50, 45);
    expect(b).toBeGreaterThan(240);
    expect(r + g).toBeLessThan(20);
    // The lower half (rows 50–99), shown in a 50×25 box: bands of black, greys and white.
    const region = await renderFrame(
      rle,
      1,
      { quality: 90, viewport: { width: 50, height: 25, source: { x: 0, y: 50, width: 100, height: 50 } } },
      'image/png',
    );
    const lower = png(region.bytes);
    expect([lower.width, lower.height]).toEqual([50, 25]);
    // Resampled (Lanczos rings by a level or two next to an edge).
    for (const value of rgbAt(lower.rgba, 50, 25, 24)) expect(value).toBeGreaterThan(250);
    for (const value of rgbAt(lower.rgba, 50, 25, 7)) expect(value).toBeLessThan(5);
  });

  it('refuses a source region outside the image', async () => {
    const outside = {
      quality: 90,
      viewport: { width: 10, height: 10, source: { x: 200, y: 0, width: 10, height: 10 } },
    };
    await expect(renderFrame(load('CT_small.dcm'), 1, outside, 'image/jpeg')).rejects.toMatchObject({
      reason: 'bad-region',
    });
    await expect(renderFrame(load('CT_small.dcm'), 1, outside, 'image/jpeg')).rejects.toBeInstanceOf(
      ImageRenderingError,
    );
  });
});
