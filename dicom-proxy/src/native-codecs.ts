/**
 * dcmjs-codecs — libjpeg-turbo, CharLS, OpenJPEG, OpenJPH, libjxl and an RLE codec compiled to
 * one WebAssembly module — shared by frame decoding (frame-transcoding.ts) and JPEG encoding of
 * rendered images (rendered-image.ts). Nothing is loaded until the first frame must be decoded or
 * image encoded; a proxy that only passes frames through (the usual case) never carries it.
 *
 * A WebAssembly memory only grows: after one large image (a mammogram decodes into tens of MB of
 * codec heap) it would stay that large for good. So the instance is dropped after a while without
 * use and its memory returned; the next use instantiates it again (some tens of milliseconds).
 */

export type DcmjsCodecs = typeof import('dcmjs-codecs');

/** How long the WebAssembly instance is kept without use. */
export const nativeCodecsIdleMs = 60_000;

let loading: Promise<DcmjsCodecs> | undefined;
/** Set once instantiated (the WebAssembly instance is a static of the library's NativeCodecs). */
let loaded: DcmjsCodecs | undefined;
let idleTimer: NodeJS.Timeout | undefined;

/** Drops the WebAssembly instance (and its memory); the next `nativeCodecs()` makes a new one. */
export function releaseNativeCodecs(): void {
  clearTimeout(idleTimer);
  idleTimer = undefined;
  // Still loading (only if the timer fired within an instantiation): nothing to release yet.
  if (!loaded) return;
  loaded.NativeCodecs.release();
  loaded = undefined;
  loading = undefined;
}

/** Whether the WebAssembly instance is there now. */
export function nativeCodecsLoaded(): boolean {
  return loaded !== undefined;
}

/**
 * dcmjs-codecs with its WebAssembly instantiated. Use it synchronously once the promise resolves
 * (every codec call is synchronous): the instance may be released at any later turn.
 */
export function nativeCodecs(): Promise<DcmjsCodecs> {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(releaseNativeCodecs, nativeCodecsIdleMs);
  idleTimer.unref();
  if (loading) return loading;
  const started = (async () => {
    // A webpack UMD bundle: `import()` gives its module.exports as `default` (its declarations
    // describe named exports, which Node cannot see in it).
    const codecs = ((await import('dcmjs-codecs')) as unknown as { default: DcmjsCodecs }).default;
    await codecs.NativeCodecs.initializeAsync();
    loaded = codecs;
    return codecs;
  })();
  loading = started;
  // A failed load is tried again by the next use rather than remembered.
  started.catch(() => {
    if (loading === started) loading = undefined;
  });
  return started;
}
