import type dicomParser from 'dicom-parser';
import { z } from 'zod';
import { decodeFrame, type NativeFrame } from './frame-transcoding.ts';
import { nativeCodecs } from './native-codecs.ts';
import { type Part10Instance, explicitVrLittleEndian } from './part10-instance.ts';

/**
 * One frame of an instance as a consumer image (PS3.18 §9.4 rendered and §9.5 thumbnail
 * resources; §8.3.5 before 2024): decoded (frame-transcoding.ts), windowed, cut to the viewport
 * and encoded as JPEG or PNG.
 *
 * The presentation pipeline — Rescale Slope/Intercept, VOI window (linear, linear exact, sigmoid)
 * or min/max when the instance has none, MONOCHROME1 inversion, palette colour, RGB/YBR colour —
 * is dcmjs-imaging's; resampling is pica's (Lanczos); JPEG is libjpeg-turbo's (the dcmjs-codecs
 * WebAssembly that decodes frames too: jpeg-js builds 12 MB of tables for every image) and PNG
 * pngjs'. Written here: reading the presentation attributes, the parameter grammar of PS3.18, the
 * crop of the source region and the RGBA → RGB/grey repacking for the encoder (sub-array copies).
 * Every one of those libraries is loaded on the first rendered request, never at start.
 *
 * Overlays and annotation are never drawn (`annotation` is accepted and ignored): nothing but the
 * pixels reaches the image, which is also what a de-identified session may see.
 */

export const renderedMediaTypes = ['image/jpeg', 'image/png'] as const;
export type RenderedMediaType = (typeof renderedMediaTypes)[number];

/** A VOI window in modality units (after Rescale Slope/Intercept). */
export interface ImageWindow {
  center: number;
  width: number;
  function: 'linear' | 'linear-exact' | 'sigmoid';
}

/** The output box (the image is scaled to fit it, keeping its aspect) and the part of the image shown. */
export interface Viewport {
  width: number;
  height: number;
  source?: { x: number; y: number; width: number; height: number };
}

export interface RenderingParameters {
  window?: ImageWindow;
  viewport?: Viewport;
  /** JPEG quality, 1–100. */
  quality: number;
}

export interface RenderedImage {
  bytes: Uint8Array;
  mediaType: RenderedMediaType;
  width: number;
  height: number;
}

/**
 * The rendering could not be done: `bad-region` (the viewport's source region lies outside the
 * image: the client's mistake) or `unrenderable` (the instance's pixels or attributes are not
 * something dcmjs-imaging renders).
 */
export class ImageRenderingError extends Error {
  readonly reason: 'bad-region' | 'unrenderable';
  constructor(reason: ImageRenderingError['reason'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageRenderingError';
    this.reason = reason;
  }
}

/** The largest viewport side: an RGBA bitmap of 4096² is 64 MiB. */
export const maxViewportSide = 4096;
/** Thumbnails fit this box unless the client gives a viewport. */
export const defaultThumbnailViewport: Viewport = { width: 128, height: 128 };
const defaultQuality = 90;

const number = String.raw`[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?`;
const windowSchema = z
  .string()
  .regex(
    new RegExp(`^${number},${number}(,(linear|linear-exact|sigmoid))?$`),
    'window=center,width[,linear|linear-exact|sigmoid]',
  )
  .transform((value): ImageWindow => {
    const [center = '', width = '', fn] = value.split(',');
    return { center: Number(center), width: Number(width), function: (fn ?? 'linear') as ImageWindow['function'] };
  })
  .refine((window) => Number.isFinite(window.center) && Number.isFinite(window.width), 'window values out of range')
  // PS3.3 §C.11.2.1.2: a linear window is at least 1 wide; the other functions only positive.
  .refine((window) => window.width > 0 && (window.function !== 'linear' || window.width >= 1), 'window too narrow');

const side = z.number().int().min(1).max(maxViewportSide);
const viewportSchema = z
  .string()
  .regex(/^\d{1,5},\d{1,5}(,\d{1,5},\d{1,5},\d{1,5},\d{1,5})?$/, 'viewport=vw,vh[,sx,sy,sw,sh] (sw, sh positive)')
  .transform((value) => value.split(',').map(Number))
  .pipe(
    z.union([
      z.tuple([side, side]),
      z.tuple([side, side, z.number().int(), z.number().int(), z.number().int().min(1), z.number().int().min(1)]),
    ]),
  )
  .transform(([width, height, x, y, sourceWidth, sourceHeight]): Viewport => ({
    width,
    height,
    ...(x !== undefined && y !== undefined && sourceWidth !== undefined && sourceHeight !== undefined
      ? { source: { x, y, width: sourceWidth, height: sourceHeight } }
      : {}),
  }));
const qualitySchema = z.coerce.number().int().min(1).max(100);
const parametersSchema = z
  .object({ window: windowSchema.optional(), viewport: viewportSchema.optional(), quality: qualitySchema.optional() })
  .strict();
const allowedParameters = { rendered: ['window', 'viewport', 'quality'], thumbnail: ['viewport'] };

/**
 * Parameters that change nothing here: `accept` is read by the front, `annotation` and `charset`
 * concern burned-in text (never drawn), `iccprofile` an embedded profile (never embedded).
 */
const ignoredParameters = new Set(['accept', 'annotation', 'charset', 'iccprofile']);

/**
 * The query parameters of a rendered (`window`, `viewport`, `quality`) or thumbnail (`viewport`)
 * request, validated (a ZodError for anything malformed or unknown).
 */
export function parseRenderingParameters(
  params: URLSearchParams,
  resource: 'rendered' | 'thumbnail',
): RenderingParameters {
  const given: Record<string, string> = {};
  for (const [name, value] of params) {
    if (ignoredParameters.has(name)) continue;
    let problem: string | undefined;
    if (!allowedParameters[resource].includes(name)) problem = `not a ${resource} parameter`;
    else if (name in given) problem = 'given twice';
    if (problem) throw new z.ZodError([{ code: 'custom', path: [name], message: problem, input: value }]);
    given[name] = value;
  }
  const parsed = parametersSchema.parse(given);
  const viewport = parsed.viewport ?? (resource === 'thumbnail' ? defaultThumbnailViewport : undefined);
  return {
    quality: parsed.quality ?? defaultQuality,
    ...(parsed.window ? { window: parsed.window } : {}),
    ...(viewport ? { viewport } : {}),
  };
}

/**
 * The libraries as loaded: dcmjs-imaging is a webpack UMD bundle, so `import()` gives its
 * `module.exports` as `default` (its declarations describe named exports); pica's declarations
 * are read as CommonJS though Node loads its ES module, whose `default` is the factory.
 */
interface Renderers {
  imaging: typeof import('dcmjs-imaging');
  pica: (typeof import('pica'))['default'];
  PNG: (typeof import('pngjs'))['PNG'];
}
let renderersLoading: Promise<Renderers> | undefined;
let resizer: ReturnType<Renderers['pica']> | undefined;

function loadRenderers(): Promise<Renderers> {
  if (renderersLoading) return renderersLoading;
  // dcmjs-imaging's own WebAssembly decoders are not initialized: frames reach it already native.
  const loading = Promise.all([import('dcmjs-imaging'), import('pica'), import('pngjs')]).then(
    ([imaging, pica, png]): Renderers => ({
      imaging: (imaging as unknown as { default: Renderers['imaging'] }).default,
      pica: pica.default as unknown as Renderers['pica'],
      PNG: png.PNG,
    }),
  );
  renderersLoading = loading;
  // A failed load is tried again by the next request rather than remembered.
  loading.catch(() => {
    if (renderersLoading === loading) renderersLoading = undefined;
  });
  return loading;
}

/** Where a frame's attribute may live: the per-frame functional group, the shared one, or the top level. */
function frameScopes(instance: Part10Instance, frameNumber: number, macro: string): dicomParser.DataSet[] {
  const scopes: dicomParser.DataSet[] = [];
  const { dataSet } = instance;
  const perFrame = dataSet.elements.x52009230?.items?.[frameNumber - 1]?.dataSet;
  const shared = dataSet.elements.x52009229?.items?.[0]?.dataSet;
  for (const group of [perFrame, shared]) {
    const item = group?.elements[macro]?.items?.[0]?.dataSet;
    if (item) scopes.push(item);
  }
  scopes.push(dataSet);
  return scopes;
}

function firstNumber(scopes: dicomParser.DataSet[], tag: string): number | undefined {
  for (const scope of scopes) {
    const value = scope.floatString(tag, 0);
    if (value !== undefined && Number.isFinite(value)) return value;
  }
  return undefined;
}

function firstText(scopes: dicomParser.DataSet[], tag: string): string | undefined {
  for (const scope of scopes) {
    const value = scope.string(tag, 0)?.trim();
    if (value) return value;
  }
  return undefined;
}

/** The instance's own window (center, width) for the frame: both from the same place. */
function ownWindow(scopes: dicomParser.DataSet[]): { center: number; width: number } | undefined {
  for (const scope of scopes) {
    const center = scope.floatString('x00281050', 0);
    const width = scope.floatString('x00281051', 0);
    if (center !== undefined && width !== undefined && Number.isFinite(center) && Number.isFinite(width)) {
      return { center, width };
    }
  }
  return undefined;
}

/** Some bytes as the ArrayBuffer dcmjs elements hold binary values in (copied unless they are one already). */
function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  const { buffer } = bytes;
  if (buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength) return buffer;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

/**
 * The dcmjs "naturalized" elements dcmjs-imaging renders one native frame from: the layout of the
 * decoded frame, and the presentation attributes of the instance (Pixel Value Transformation and
 * Frame VOI LUT functional groups of enhanced multi-frame images first).
 */
function presentationElements(
  instance: Part10Instance,
  frameNumber: number,
  frame: NativeFrame,
  window: ImageWindow | undefined,
): Record<string, unknown> {
  const { dataSet } = instance;
  const rescale = frameScopes(instance, frameNumber, 'x00289145');
  const voi = frameScopes(instance, frameNumber, 'x00289132');
  const elements: Record<string, unknown> = {
    Rows: frame.rows,
    Columns: frame.columns,
    SamplesPerPixel: frame.samplesPerPixel,
    BitsAllocated: frame.bitsAllocated,
    BitsStored: frame.bitsStored,
    HighBit: frame.highBit,
    PixelRepresentation: frame.pixelRepresentation,
    PlanarConfiguration: frame.planarConfiguration,
    PhotometricInterpretation: frame.photometricInterpretation,
    NumberOfFrames: 1,
    PixelData: [arrayBufferOf(frame.bytes)],
    RescaleSlope: firstNumber(rescale, 'x00281053') ?? 1,
    RescaleIntercept: firstNumber(rescale, 'x00281052') ?? 0,
  };
  const own = ownWindow(voi);
  if (own) {
    elements.WindowCenter = own.center;
    elements.WindowWidth = own.width;
  }
  const voiFunction = window ? window.function.toUpperCase().replace('-', '_') : firstText(voi, 'x00281056');
  if (voiFunction) elements.VOILUTFunction = voiFunction;
  const padding = dataSet.elements.x00280120;
  if (padding) {
    elements.PixelPaddingValue =
      frame.pixelRepresentation === 1 ? dataSet.int16('x00280120') : dataSet.uint16('x00280120');
  }
  if (frame.photometricInterpretation === 'PALETTE COLOR') {
    for (const [colour, descriptor, data] of [
      ['Red', 'x00281101', '00281201'],
      ['Green', 'x00281102', '00281202'],
      ['Blue', 'x00281103', '00281203'],
    ] as const) {
      elements[`${colour}PaletteColorLookupTableDescriptor`] = [0, 1, 2].map((index) =>
        dataSet.uint16(descriptor, index),
      );
      const lut = instance.bulkData(data)?.[0];
      if (lut) elements[`${colour}PaletteColorLookupTableData`] = arrayBufferOf(lut);
    }
  }
  return elements;
}

/** The source region within the image, clipped to it. */
function sourceRegion(viewport: Viewport | undefined, width: number, height: number) {
  const asked = viewport?.source ?? { x: 0, y: 0, width, height };
  const x = Math.max(0, asked.x);
  const y = Math.max(0, asked.y);
  const right = Math.min(width, asked.x + asked.width);
  const bottom = Math.min(height, asked.y + asked.height);
  if (right <= x || bottom <= y) {
    throw new ImageRenderingError('bad-region', `the viewport's source region is outside the ${width}×${height} image`);
  }
  return { x, y, width: right - x, height: bottom - y };
}

/** The RGBA rows of `region` (the whole bitmap when the region is the whole image). */
function crop(rgba: Uint8Array, imageWidth: number, region: { x: number; y: number; width: number; height: number }) {
  if (
    region.x === 0 &&
    region.y === 0 &&
    region.width === imageWidth &&
    rgba.length === region.width * region.height * 4
  ) {
    return rgba;
  }
  const cropped = new Uint8Array(region.width * region.height * 4);
  for (let row = 0; row < region.height; row += 1) {
    const from = ((region.y + row) * imageWidth + region.x) * 4;
    cropped.set(rgba.subarray(from, from + region.width * 4), row * region.width * 4);
  }
  return cropped;
}

/** Opaque RGBA as the encoder takes it: one grey sample (the red one) or three per pixel. */
function packed(rgba: Uint8Array, samples: 1 | 3): Uint8Array {
  const pixels = rgba.length / 4;
  const out = new Uint8Array(pixels * samples);
  for (let pixel = 0; pixel < pixels; pixel += 1) {
    for (let sample = 0; sample < samples; sample += 1) out[pixel * samples + sample] = rgba[pixel * 4 + sample] ?? 0;
  }
  return out;
}

/** Baseline JPEG (JFIF) from libjpeg-turbo: one component for greyscale, YCbCr for colour. */
async function encodeJpeg(rgba: Uint8Array, width: number, height: number, grey: boolean, quality: number) {
  const codecs = await nativeCodecs();
  const samples = grey ? 1 : 3;
  const context = new codecs.Context({
    width,
    height,
    bitsAllocated: 8,
    bitsStored: 8,
    samplesPerPixel: samples,
    pixelRepresentation: 0,
    planarConfiguration: 0,
    photometricInterpretation: grey ? 'MONOCHROME2' : 'RGB',
    decodedBuffer: packed(rgba, samples),
  });
  const encoded = codecs.NativeCodecs.encodeJpeg(context, { lossy: true, quality }).getEncodedBuffer();
  if (!encoded) throw new ImageRenderingError('unrenderable', 'the JPEG encoder returned nothing');
  return encoded;
}

/** The size that fits `box` with the aspect of `region`, at least one pixel each way. */
function fitted(region: { width: number; height: number }, box: { width: number; height: number }) {
  const scale = Math.min(box.width / region.width, box.height / region.height);
  return {
    width: Math.max(1, Math.round(region.width * scale)),
    height: Math.max(1, Math.round(region.height * scale)),
  };
}

/**
 * Frame `frameNumber` (1-based) of the instance rendered: with `parameters.window` or the
 * instance's own window (or the frame's min/max), cut to the viewport's source region and scaled
 * to fit the viewport, encoded as `mediaType`. A window is a greyscale notion: colour images
 * ignore it. Synchronous work (decoding, the LUTs, encoding) runs on the event loop: tens of
 * milliseconds for a CT slice.
 */
export async function renderFrame(
  instance: Part10Instance,
  frameNumber: number,
  parameters: RenderingParameters,
  mediaType: RenderedMediaType,
): Promise<RenderedImage> {
  const frame = await decodeFrame(instance, frameNumber);
  const { imaging, pica, PNG } = await loadRenderers();
  let rendered: { width: number; height: number; pixels: ArrayBuffer };
  try {
    const image = new imaging.DicomImage(
      presentationElements(instance, frameNumber, frame, parameters.window),
      explicitVrLittleEndian,
    );
    rendered = image.render({
      renderOverlays: false,
      ...(parameters.window
        ? { windowLevel: new imaging.WindowLevel(parameters.window.width, parameters.window.center) }
        : {}),
    });
  } catch (error) {
    throw new ImageRenderingError('unrenderable', `frame ${frameNumber} could not be rendered: ${String(error)}`, {
      cause: error,
    });
  }
  const region = sourceRegion(parameters.viewport, rendered.width, rendered.height);
  let rgba = crop(new Uint8Array(rendered.pixels), rendered.width, region);
  let { width, height } = region;
  if (parameters.viewport) {
    const size = fitted(region, parameters.viewport);
    if (size.width !== width || size.height !== height) {
      // JavaScript only: pica's WebAssembly is twice as fast but keeps the largest bitmap it
      // ever resized in a memory that never shrinks (~40 MB after one 2048² image).
      resizer ??= pica({ features: ['js'] });
      rgba = await resizer.resizeBuffer({
        src: rgba,
        width,
        height,
        toWidth: size.width,
        toHeight: size.height,
        filter: 'lanczos3',
      });
      ({ width, height } = size);
    }
  }
  const grey = frame.photometricInterpretation.startsWith('MONOCHROME');
  if (mediaType === 'image/png') {
    const png = new PNG(); // without a size: no bitmap of its own is allocated
    png.width = width;
    png.height = height;
    png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
    // RGBA in; greyscale or RGB out (the alpha channel is always opaque).
    const bytes = PNG.sync.write(png, { colorType: grey ? 0 : 2, inputColorType: 6, inputHasAlpha: true });
    return { bytes, mediaType, width, height };
  }
  return { bytes: await encodeJpeg(rgba, width, height, grey, parameters.quality), mediaType, width, height };
}
