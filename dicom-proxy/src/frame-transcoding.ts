import { nativeCodecs } from './native-codecs.ts';
import { Part10Error, type Part10Instance, explicitVrLittleEndian } from './part10-instance.ts';

/**
 * Compressed frames decoded to native pixels: for viewers that do not accept the stored transfer
 * syntax (PS3.18 §8.7.3.5 lets the origin server send frames in any syntax the client accepts),
 * and as the input of the rendered and thumbnail resources (rendered-image.ts).
 *
 * Decoding is dcmjs-codecs' (native-codecs.ts: loaded on the first frame that must be decoded,
 * never at start); only the description of the frame handed to it is built here.
 */

/** The syntaxes dcmjs-codecs decodes (its `TransferSyntax` constants less the native ones and JPEG XL recompression). */
export const decodableTransferSyntaxes: ReadonlySet<string> = new Set([
  '1.2.840.10008.1.2.5', // RLE Lossless
  '1.2.840.10008.1.2.4.50', // JPEG Baseline (Process 1)
  '1.2.840.10008.1.2.4.70', // JPEG Lossless, first-order prediction
  '1.2.840.10008.1.2.4.80', // JPEG-LS Lossless
  '1.2.840.10008.1.2.4.81', // JPEG-LS near-lossless
  '1.2.840.10008.1.2.4.90', // JPEG 2000 lossless
  '1.2.840.10008.1.2.4.91', // JPEG 2000
  '1.2.840.10008.1.2.4.110', // JPEG XL lossless
  '1.2.840.10008.1.2.4.112', // JPEG XL
  '1.2.840.10008.1.2.4.201', // HTJ2K lossless
  '1.2.840.10008.1.2.4.202', // HTJ2K lossless RPCL
  '1.2.840.10008.1.2.4.203', // HTJ2K
]);

/**
 * A frame could not be produced in native form: `unsupported` (a syntax or bit depth dcmjs-codecs
 * does not decode), `layout-changed` (decoding changes the photometric interpretation or planar
 * configuration, so the instance's metadata would misdescribe the bytes), `undecodable` (the
 * codec failed on the data).
 */
export class FrameDecodingError extends Error {
  readonly reason: 'unsupported' | 'layout-changed' | 'undecodable';
  constructor(reason: FrameDecodingError['reason'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FrameDecodingError';
    this.reason = reason;
  }
}

/** The Image Pixel module (PS3.3 §C.7.6.3) attributes that say how a frame's bytes are laid out. */
export interface ImagePixelDescription {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: number;
  /** 0 interleaved (R1G1B1R2…), 1 by plane (R1R2…G1G2…). */
  planarConfiguration: number;
  photometricInterpretation: string;
}

/** One frame as native little endian pixels, with the layout they are in. */
export interface NativeFrame extends ImagePixelDescription {
  bytes: Uint8Array;
}

export function imagePixelDescription(instance: Part10Instance): ImagePixelDescription {
  const { dataSet } = instance;
  const bitsAllocated = dataSet.uint16('x00280100') ?? 0;
  const bitsStored = dataSet.uint16('x00280101') ?? bitsAllocated;
  return {
    rows: dataSet.uint16('x00280010') ?? 0,
    columns: dataSet.uint16('x00280011') ?? 0,
    samplesPerPixel: dataSet.uint16('x00280002') ?? 1,
    bitsAllocated,
    bitsStored,
    highBit: dataSet.uint16('x00280102') ?? bitsStored - 1,
    pixelRepresentation: dataSet.uint16('x00280103') ?? 0,
    planarConfiguration: dataSet.uint16('x00280006') ?? 0,
    photometricInterpretation: dataSet.string('x00280004')?.trim() ?? '',
  };
}

/** Bytes of one native frame in this layout. */
function nativeFrameLength(pixel: ImagePixelDescription): number {
  if (pixel.bitsAllocated === 1) return Math.ceil((pixel.rows * pixel.columns) / 8);
  return pixel.rows * pixel.columns * pixel.samplesPerPixel * (pixel.bitsAllocated / 8);
}

/**
 * Frame `number` (1-based) of the instance as native little endian pixels. Native frames are
 * returned as they are; compressed ones are decoded (the layout may then differ from the
 * instance's: JPEG colour comes out RGB and interleaved, JPEG 2000 YBR_ICT/RCT comes out RGB).
 */
export async function decodeFrame(instance: Part10Instance, number: number): Promise<NativeFrame> {
  const pixel = imagePixelDescription(instance);
  const frame = instance.frame(number);
  if (frame.transferSyntaxUid === explicitVrLittleEndian) return { ...pixel, bytes: frame.bytes };
  if (!decodableTransferSyntaxes.has(frame.transferSyntaxUid)) {
    throw new FrameDecodingError('unsupported', `frames in ${frame.transferSyntaxUid} cannot be decoded here`);
  }
  if (pixel.bitsAllocated !== 8 && pixel.bitsAllocated !== 16) {
    throw new FrameDecodingError('unsupported', `${pixel.bitsAllocated}-bit compressed frames cannot be decoded here`);
  }
  if (pixel.rows === 0 || pixel.columns === 0) throw new Part10Error('the instance has no Rows or Columns');
  const codecs = await nativeCodecs();
  // dcmjs "naturalized" elements of a one-frame image: the codecs read nothing else.
  const elements: Record<string, unknown> = {
    Rows: pixel.rows,
    Columns: pixel.columns,
    SamplesPerPixel: pixel.samplesPerPixel,
    BitsAllocated: pixel.bitsAllocated,
    BitsStored: pixel.bitsStored,
    HighBit: pixel.highBit,
    PixelRepresentation: pixel.pixelRepresentation,
    PlanarConfiguration: pixel.planarConfiguration,
    PhotometricInterpretation: pixel.photometricInterpretation,
    NumberOfFrames: 1,
    // A copy: the frame is a view into the whole file (Buffer#slice would not copy either).
    PixelData: [frame.bytes.buffer.slice(frame.bytes.byteOffset, frame.bytes.byteOffset + frame.bytes.byteLength)],
  };
  let decoded: Record<string, unknown>;
  try {
    const transcoder = new codecs.Transcoder(elements, frame.transferSyntaxUid);
    transcoder.transcode(explicitVrLittleEndian);
    decoded = transcoder.getElements();
  } catch (error) {
    throw new FrameDecodingError('undecodable', `frame ${number} could not be decoded: ${String(error)}`, {
      cause: error,
    });
  }
  const pixelData = decoded.PixelData;
  const buffer = Array.isArray(pixelData) ? (pixelData[0] as unknown) : undefined;
  if (!(buffer instanceof ArrayBuffer))
    throw new FrameDecodingError('undecodable', `frame ${number} decoded to nothing`);
  const layout: ImagePixelDescription = {
    ...pixel,
    photometricInterpretation: String(decoded.PhotometricInterpretation ?? pixel.photometricInterpretation),
    planarConfiguration: Number(decoded.PlanarConfiguration ?? pixel.planarConfiguration),
  };
  const length = nativeFrameLength(layout);
  // The codecs pad odd lengths to even, as pixel data is stored; the frame itself is cut back.
  if (buffer.byteLength < length) {
    throw new FrameDecodingError('undecodable', `frame ${number} decoded to ${buffer.byteLength} bytes, not ${length}`);
  }
  return { ...layout, bytes: new Uint8Array(buffer, 0, length) };
}

/**
 * Frame `number` decoded for a client that asked for explicit VR little endian frames: the
 * native bytes, refused (`layout-changed`) when decoding changed the layout that the instance's
 * metadata, which the client already holds, describes.
 */
export async function transcodeFrameToNative(instance: Part10Instance, number: number): Promise<Uint8Array> {
  const stored = imagePixelDescription(instance);
  const native = await decodeFrame(instance, number);
  const samePlanes = native.samplesPerPixel === 1 || native.planarConfiguration === stored.planarConfiguration;
  if (native.photometricInterpretation !== stored.photometricInterpretation || !samePlanes) {
    throw new FrameDecodingError(
      'layout-changed',
      `decoded ${instance.transferSyntaxUid} frames are ${native.photometricInterpretation}, not ${stored.photometricInterpretation} as the metadata says; ask for transfer-syntax=*`,
    );
  }
  return native.bytes;
}
