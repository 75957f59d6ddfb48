/**
 * Reads a `multipart/related` body (WADO-RS, PS3.18 §8.7.1) part by part as it arrives, yielding
 * each part once its closing boundary has been seen. Part bodies are kept as the chunks they came
 * in (never concatenated), and one part at most is held: memory is bounded by the largest
 * instance, never by the study, and a part over `maxPartBytes` is refused.
 *
 * Written by hand: busboy and its relatives only parse `multipart/form-data`, and the maintained
 * generic parsers collect parts the same way but with web-stream plumbing this does not need.
 */

export class MultipartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultipartError';
  }
}

export interface MultipartPart {
  /** Header names lower-cased. */
  headers: Record<string, string>;
  chunks: Buffer[];
  size: number;
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');
const MAX_HEADER_BYTES = 16 * 1024;

/** The `boundary` parameter of a multipart Content-Type, unquoted; null when absent or malformed. */
export function multipartBoundary(contentType: string | null): string | null {
  if (!contentType || !/^\s*multipart\/related\s*(;|$)/i.test(contentType)) return null;
  const match = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  return match?.[1] ?? match?.[2] ?? null;
}

export async function* readMultipartRelated(
  body: AsyncIterable<Uint8Array>,
  boundary: string,
  options: { maxPartBytes: number },
): AsyncGenerator<MultipartPart> {
  // The first boundary may come without a CRLF before it; prefixing one makes every delimiter look alike.
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let window: Buffer = Buffer.from('\r\n');
  let state: 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'done' = 'preamble';
  let part: MultipartPart | null = null;

  for await (const chunk of body) {
    // A view, not a copy: streams hand over each chunk for good. Part bodies keep views of the
    // chunks (no buffer here is ever written to after it is made), so a part's bytes are not copied.
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (
      (state as string) === 'body' &&
      window.length > 0 &&
      window.length < delimiter.length &&
      bytes.length >= delimiter.length - 1
    ) {
      // The kept tail (a copy of at most delimiter−1 bytes) is body unless a delimiter starts in it.
      const probe = Buffer.concat([window, bytes.subarray(0, delimiter.length - 1)]);
      const at = probe.indexOf(delimiter);
      if (at < 0 || at >= window.length) {
        addToPart(part!, window, options.maxPartBytes);
        window = bytes;
      } else {
        window = Buffer.concat([window, bytes]);
      }
    } else {
      window = window.length === 0 ? bytes : Buffer.concat([window, bytes]);
    }
    for (;;) {
      if (state === 'preamble' || state === 'body') {
        const at = window.indexOf(delimiter);
        if (at < 0) {
          // Keep just enough to find a delimiter that straddles the next chunk.
          const keep = Math.min(window.length, delimiter.length - 1);
          if (state === 'body') addToPart(part!, window.subarray(0, window.length - keep), options.maxPartBytes);
          window = Buffer.from(window.subarray(window.length - keep));
          break;
        }
        if (state === 'body') {
          addToPart(part!, window.subarray(0, at), options.maxPartBytes);
          yield part!;
          part = null;
        }
        window = window.subarray(at + delimiter.length);
        state = 'after-delimiter';
      }
      if (state === 'after-delimiter') {
        if (window.length < 2) break;
        if (window[0] === 0x2d && window[1] === 0x2d) {
          state = 'done';
          break;
        }
        // Transport padding (spaces/tabs) may follow the boundary before its CRLF.
        const lineEnd = window.indexOf('\r\n');
        if (lineEnd < 0) {
          if (window.length > 256) throw new MultipartError('malformed boundary line');
          break;
        }
        window = window.subarray(lineEnd + 2);
        state = 'headers';
      }
      if (state === 'headers') {
        const emptyPart = window.subarray(0, 2).equals(Buffer.from('\r\n'));
        const end = emptyPart ? 0 : window.indexOf(CRLF_CRLF);
        if (!emptyPart && end < 0) {
          if (window.length > MAX_HEADER_BYTES) throw new MultipartError('part headers too long');
          break;
        }
        part = { headers: parseHeaders(window.subarray(0, end).toString('latin1')), chunks: [], size: 0 };
        window = window.subarray(emptyPart ? 2 : end + 4);
        state = 'body';
      }
    }
    if (state === 'done') break;
  }
  if (state !== 'done') throw new MultipartError('multipart body ended before its closing boundary');
}

function addToPart(part: MultipartPart, bytes: Buffer, maxPartBytes: number): void {
  if (bytes.length === 0) return;
  part.size += bytes.length;
  if (part.size > maxPartBytes) throw new MultipartError(`a part is larger than ${maxPartBytes} bytes`);
  part.chunks.push(bytes);
}

function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}
