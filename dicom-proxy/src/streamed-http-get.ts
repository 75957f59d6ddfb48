import { isIP, connect as connectTcp, type OnReadOpts, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';

/**
 * An HTTP/1.1 GET whose response body is read into one buffer, reused for every read of the
 * socket, and handed to a parser that keeps what it needs (a copy) before the next read.
 *
 * Why not node:http: its sockets allocate a new buffer for every read (64 KB), and a whole-series
 * retrieve makes thousands of them. They are garbage at once, but V8 frees them only when the
 * JavaScript heap fills its young generation, which this byte-shuffling path does slowly: 20–30 MB
 * of dead read buffers were alive at a time, a fifth of the proxy's 150 MB budget. Sockets made
 * with `onread` read into a buffer of ours instead, and node:http cannot use those. undici reads
 * the same way node:http does (and parses in WebAssembly, ~16 MB resident); the JavaScript HTTP
 * parsers on npm handle the head and chunked framing that is written out here in a hundred lines.
 *
 * What it covers is what a DICOMweb retrieve needs: one GET per connection (`Connection: close`,
 * so no keep-alive bookkeeping: a retrieve of many instances pays one connection setup),
 * Content-Length, chunked or close-delimited bodies, http and https.
 */

/** Status and headers of a response (names lower-cased, repeated headers joined by `, `). */
export interface ResponseHead {
  status: number;
  headers: Record<string, string>;
}

/** Parses a body handed over in pieces that are valid only during `push`. */
export interface BodyParser<T extends { release(): void }> {
  /** Takes the next bytes (copy what is kept: the buffer is reused); returns items they completed. */
  push(bytes: Uint8Array): T[];
  /** The body ended here; throws if that is too early for what it holds. */
  end(): void;
  /** Lets go of an unfinished item (the request failed or the consumer stopped). */
  abandon(): void;
}

export interface StreamedGetOptions {
  headers: Record<string, string>;
  /** Longest silence of the connection: while connecting, waiting for the head, between reads. */
  timeoutMs: number;
  /** Made when `timeoutMs` passes; the request fails with it. */
  timeoutError(): Error;
  signal?: AbortSignal;
}

/** The error of a response that is no well-formed HTTP/1.1. */
export class HttpResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpResponseError';
  }
}

/** The socket's read buffer, one per request. */
const READ_BUFFER_BYTES = 64 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE_BYTES = 1024;

/**
 * GETs `url` and yields the items `parserFor` (given the response head, which it may refuse by
 * throwing) makes of the body, as they complete. The socket is paused while an item waits for the
 * consumer, so a slow consumer slows the upstream instead of filling memory. Items the consumer
 * never took are released.
 */
export async function* streamedGet<T extends { release(): void }>(
  url: URL,
  options: StreamedGetOptions,
  parserFor: (head: ResponseHead) => BodyParser<T>,
): AsyncGenerator<T> {
  const { signal } = options;
  signal?.throwIfAborted();
  const response = new ResponseReader(parserFor);
  const items: T[] = [];
  let failure: unknown;
  let complete = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  const onread: OnReadOpts = {
    buffer: readBuffer,
    callback: (length: number): boolean => {
      try {
        items.push(...response.push(readBuffer.subarray(0, length)));
        if (response.complete) complete = true;
      } catch (error) {
        fail(error);
        return false;
      }
      notify();
      return items.length === 0 && !complete; // paused while the consumer has items to take
    },
  };
  const secure = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1'); // an IPv6 literal without its brackets
  const port = Number(url.port) || (secure ? 443 : 80);
  // tls.connect takes `onread` too (since Node 15, nodejs/node#35753), though @types/node omits it.
  const tlsOptions: ConnectionOptions & { onread: OnReadOpts } = {
    host,
    port,
    ...(isIP(host) ? {} : { servername: host }),
    onread,
  };
  const socket: Socket = secure ? connectTls(tlsOptions) : connectTcp({ host, port, onread });
  function fail(error: unknown) {
    failure ??= error;
    socket.destroy();
    notify();
  }
  const onAbort = () => fail(signal?.reason ?? new Error('aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  socket.setNoDelay(true);
  socket.setTimeout(options.timeoutMs, () => fail(options.timeoutError()));
  socket.on('error', fail);
  socket.once('close', () => {
    if (!complete && failure === undefined) {
      try {
        response.close();
        complete = true;
      } catch (error) {
        failure = error;
      }
    }
    notify();
  });
  const head = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close'];
  for (const [name, value] of Object.entries(options.headers)) head.push(`${name}: ${value}`);
  socket.write(`${head.join('\r\n')}\r\n\r\n`);
  try {
    for (;;) {
      if (failure !== undefined) throw failure;
      const item = items.shift();
      if (item) {
        yield item;
        continue;
      }
      if (complete) return;
      socket.resume();
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    for (const item of items.splice(0)) item.release();
    response.abandon();
    signal?.removeEventListener('abort', onAbort);
    socket.destroy();
  }
}

type Framing = { kind: 'length'; left: number } | { kind: 'chunked' } | { kind: 'close' };

/** The response's head, then its body framing, as bytes arrive; body bytes go to the parser. */
class ResponseReader<T extends { release(): void }> {
  private readonly parserFor: (head: ResponseHead) => BodyParser<T>;
  private parser: BodyParser<T> | undefined;
  private state: 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'complete' = 'head';
  private framing: Framing = { kind: 'close' };
  /** Bytes of an unfinished head or framing line (copied: the read buffer is reused). */
  private pending: Buffer = Buffer.alloc(0);
  private chunkLeft = 0;

  constructor(parserFor: (head: ResponseHead) => BodyParser<T>) {
    this.parserFor = parserFor;
  }

  get complete(): boolean {
    return this.state === 'complete';
  }

  push(bytes: Uint8Array): T[] {
    const items: T[] = [];
    let at = 0;
    while (at < bytes.length && this.state !== 'complete') {
      switch (this.state) {
        case 'head': {
          const end = this.line(bytes, at, '\r\n\r\n', MAX_HEAD_BYTES, 'response head');
          if (end < 0) return items;
          at = end;
          this.startBody(this.takeLine());
          break;
        }
        case 'body': {
          const take =
            this.framing.kind === 'length' ? Math.min(this.framing.left, bytes.length - at) : bytes.length - at;
          items.push(...this.parser!.push(bytes.subarray(at, at + take)));
          at += take;
          if (this.framing.kind === 'length') {
            this.framing.left -= take;
            if (this.framing.left === 0) this.finish();
          }
          break;
        }
        case 'chunk-size': {
          const end = this.line(bytes, at, '\r\n', MAX_CHUNK_LINE_BYTES, 'chunk size line');
          if (end < 0) return items;
          at = end;
          const line = this.takeLine();
          const size = /^([0-9A-Fa-f]{1,12})[ \t]*(;.*)?$/.exec(line)?.[1];
          if (size === undefined) throw new HttpResponseError(`malformed chunk size line: ${line.slice(0, 40)}`);
          this.chunkLeft = Number.parseInt(size, 16);
          this.state = this.chunkLeft === 0 ? 'trailers' : 'chunk-data';
          break;
        }
        case 'chunk-data': {
          const take = Math.min(this.chunkLeft, bytes.length - at);
          items.push(...this.parser!.push(bytes.subarray(at, at + take)));
          at += take;
          this.chunkLeft -= take;
          if (this.chunkLeft === 0) this.state = 'chunk-end';
          break;
        }
        case 'chunk-end':
        case 'trailers': {
          const end = this.line(bytes, at, '\r\n', MAX_HEAD_BYTES, 'chunk end');
          if (end < 0) return items;
          at = end;
          const line = this.takeLine();
          if (this.state === 'chunk-end') {
            if (line !== '') throw new HttpResponseError('a chunk is longer than its size');
            this.state = 'chunk-size';
          } else if (line === '') {
            this.finish(); // the trailer section ends with an empty line
          }
          break;
        }
      }
    }
    return items;
  }

  /** The connection closed: the end of a close-delimited body, else too early. */
  close(): void {
    if (this.state === 'body' && this.framing.kind === 'close') {
      this.finish();
      return;
    }
    if (this.state !== 'complete') throw new HttpResponseError('the connection closed before the response ended');
  }

  abandon(): void {
    this.parser?.abandon();
  }

  /**
   * Looks for `terminator` from `at`, keeping what comes before it in `pending`; the offset past
   * the terminator, or -1 when it has not arrived yet.
   */
  private line(bytes: Uint8Array, at: number, terminator: string, limit: number, what: string): number {
    const rest = Buffer.from(bytes.buffer, bytes.byteOffset + at, bytes.length - at);
    const before = this.pending.length;
    // Only the last few kept bytes can begin a terminator that straddles two reads.
    const search = before === 0 ? rest : Buffer.concat([this.pending.subarray(Math.max(0, before - 3)), rest]);
    const carried = search.length - rest.length;
    const found = search.indexOf(terminator, 0, 'latin1');
    if (found < 0) {
      if (before + rest.length > limit) throw new HttpResponseError(`${what} too long`);
      this.pending = Buffer.concat([this.pending, rest]);
      return -1;
    }
    const end = found - carried + terminator.length; // past the terminator, within `rest`
    this.pending = Buffer.concat([this.pending, rest.subarray(0, Math.max(0, end))]);
    this.pending = this.pending.subarray(0, this.pending.length - terminator.length);
    return at + end;
  }

  private takeLine(): string {
    const text = this.pending.toString('latin1');
    this.pending = Buffer.alloc(0);
    return text;
  }

  private startBody(text: string): void {
    const [statusLine = '', ...lines] = text.split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine)?.[1];
    if (status === undefined) throw new HttpResponseError(`not an HTTP/1.1 response: ${statusLine.slice(0, 40)}`);
    const code = Number(status);
    if (code >= 100 && code < 200) return; // an interim response: the real head follows
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    this.parser = this.parserFor({ status: code, headers });
    const coding = headers['transfer-encoding']?.toLowerCase();
    const length = headers['content-length'];
    if (code === 204 || code === 304) {
      this.framing = { kind: 'length', left: 0 };
    } else if (coding !== undefined) {
      if (!/(^|,)\s*chunked\s*$/.test(coding)) throw new HttpResponseError(`unsupported transfer coding: ${coding}`);
      this.framing = { kind: 'chunked' };
    } else if (length !== undefined) {
      if (!/^\d{1,15}$/.test(length)) throw new HttpResponseError(`malformed Content-Length: ${length}`);
      this.framing = { kind: 'length', left: Number(length) };
    }
    this.state = this.framing.kind === 'chunked' ? 'chunk-size' : 'body';
    if (this.framing.kind === 'length' && this.framing.left === 0) this.finish();
  }

  private finish(): void {
    this.state = 'complete';
    this.parser?.end();
  }
}
