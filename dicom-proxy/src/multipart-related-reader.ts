import { PooledBytes, type BlockPool, type HeldBytes } from './pooled-bytes.ts';
import type { BodyParser } from './streamed-http-get.ts';

/**
 * Reads a `multipart/related` body (WADO-RS, PS3.18 §8.7.1) part by part as it arrives, yielding
 * each part once its closing boundary has been seen. One part at most is held: memory is bounded
 * by the largest instance, never by the study, and a part over `maxPartBytes` is refused.
 *
 * Part bodies are the views of the chunks they came in (never concatenated), or with `pool` a copy
 * in its blocks, made as each chunk arrives: the chunk (a socket read) is then garbage at once,
 * not kept alive by the part until the consumer is done with it (pooled-bytes.ts says why that
 * matters). A part is yielded only once the chunk it ended in has been scanned to its end.
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

/** A part's headers (names lower-cased) and body; `release` once done with the body. */
export interface MultipartPart extends HeldBytes {
  headers: Record<string, string>;
}

export interface MultipartReadOptions {
  maxPartBytes: number;
  /** Copy part bodies into blocks of this pool (else they are views of the body's chunks). */
  pool?: BlockPool;
}

const CRLF = Buffer.from('\r\n');
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
  options: MultipartReadOptions,
): AsyncGenerator<MultipartPart> {
  const scanner = new MultipartScanner(boundary, options);
  let completed: MultipartPart[] = [];
  try {
    for await (const chunk of body) {
      completed = scanner.push(chunk);
      while (completed.length > 0) yield completed.shift()!;
      if (scanner.finished) break;
    }
    scanner.end();
  } finally {
    // Parts nobody took (the consumer stopped, or the body failed) let their bytes go.
    for (const part of completed) part.release();
    scanner.abandon();
  }
}

/**
 * The scan of a multipart body chunk by chunk, parts completed in each chunk returned. With a
 * pool it keeps nothing of a chunk once `push` returns (parts are copies, the kept tail too), so
 * it can be fed from a read buffer that is reused (streamed-http-get.ts).
 */
export class MultipartScanner implements BodyParser<MultipartPart> {
  private readonly delimiter: Buffer;
  private readonly options: MultipartReadOptions;
  // The first boundary may come without a CRLF before it; prefixing one makes every delimiter look alike.
  private window: Buffer = Buffer.from(CRLF);
  private state: 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'done' = 'preamble';
  private part: MultipartPart | null = null;

  constructor(boundary: string, options: MultipartReadOptions) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
    this.options = options;
  }

  get finished(): boolean {
    return this.state === 'done';
  }

  push(chunk: Uint8Array): MultipartPart[] {
    if (this.state === 'done') return []; // the epilogue, if any, is of no interest
    const delimiter = this.delimiter;
    const completed: MultipartPart[] = [];
    // A view, not a copy: streams hand over each chunk for good (no buffer here is ever written
    // to after it is made), so part bodies without a pool keep views of it.
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let window = this.window;
    if (
      this.state === 'body' &&
      window.length > 0 &&
      window.length < delimiter.length &&
      bytes.length >= delimiter.length - 1
    ) {
      // The kept tail (a copy of at most delimiter−1 bytes) is body unless a delimiter starts in it.
      const probe = Buffer.concat([window, bytes.subarray(0, delimiter.length - 1)]);
      const at = probe.indexOf(delimiter);
      if (at < 0 || at >= window.length) {
        this.addToPart(window);
        window = bytes;
      } else {
        window = Buffer.concat([window, bytes]);
      }
    } else {
      window = window.length === 0 ? bytes : Buffer.concat([window, bytes]);
    }
    for (;;) {
      if (this.state === 'preamble' || this.state === 'body') {
        const at = window.indexOf(delimiter);
        if (at < 0) {
          // Keep just enough to find a delimiter that straddles the next chunk.
          const keep = Math.min(window.length, delimiter.length - 1);
          if (this.state === 'body') this.addToPart(window.subarray(0, window.length - keep));
          window = window.subarray(window.length - keep);
          break;
        }
        if (this.state === 'body') {
          this.addToPart(window.subarray(0, at));
          completed.push(this.part!);
          this.part = null;
        }
        window = window.subarray(at + delimiter.length);
        this.state = 'after-delimiter';
      }
      if (this.state === 'after-delimiter') {
        if (window.length < 2) break;
        if (window[0] === 0x2d && window[1] === 0x2d) {
          this.state = 'done';
          break;
        }
        // Transport padding (spaces/tabs) may follow the boundary before its CRLF.
        const lineEnd = window.indexOf(CRLF);
        if (lineEnd < 0) {
          if (window.length > 256) throw new MultipartError('malformed boundary line');
          break;
        }
        window = window.subarray(lineEnd + 2);
        this.state = 'headers';
      }
      if (this.state === 'headers') {
        const emptyPart = window.subarray(0, 2).equals(CRLF);
        const end = emptyPart ? 0 : window.indexOf(CRLF_CRLF);
        if (!emptyPart && end < 0) {
          if (window.length > MAX_HEADER_BYTES) throw new MultipartError('part headers too long');
          break;
        }
        const headers = parseHeaders(window.subarray(0, end).toString('latin1'));
        this.part = { headers, ...new PooledBytes(this.options.pool).held() };
        window = window.subarray(emptyPart ? 2 : end + 4);
        this.state = 'body';
      }
    }
    // What is kept for the next chunk is small (a delimiter's length, or unfinished part
    // headers): a copy of it, so the chunk itself is not kept alive.
    this.window = this.state === 'done' ? Buffer.alloc(0) : Buffer.from(window);
    return completed;
  }

  /** The body ended: throws unless its closing boundary was seen. */
  end(): void {
    if (this.state !== 'done') throw new MultipartError('multipart body ended before its closing boundary');
  }

  /** Lets the bytes of an unfinished part go. */
  abandon(): void {
    this.part?.release();
    this.part = null;
  }

  private addToPart(bytes: Buffer): void {
    const part = this.part!;
    if (bytes.length === 0) return;
    if (part.bytes.size + bytes.length > this.options.maxPartBytes) {
      throw new MultipartError(`a part is larger than ${this.options.maxPartBytes} bytes`);
    }
    part.bytes.append(bytes);
  }
}

function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}
