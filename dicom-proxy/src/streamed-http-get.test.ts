import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MultipartScanner } from './multipart-related-reader.ts';
import { BlockPool } from './pooled-bytes.ts';
import { HttpResponseError, streamedGet, type BodyParser, type ResponseHead } from './streamed-http-get.ts';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A server that answers every request with `answer` (its own bytes, in pieces of `piece`). */
async function serve(answer: (socket: Socket, request: string) => void): Promise<URL> {
  server = createServer((socket) => {
    let request = '';
    socket.on('data', (data) => {
      request += data.toString('latin1');
      if (request.includes('\r\n\r\n')) answer(socket, request);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/dicom-web/studies/1.2?x=1`);
}

/** Writes `text` a few bytes at a time, so every boundary falls between two reads somewhere. */
async function trickle(socket: Socket, text: string, piece = 3): Promise<void> {
  for (let at = 0; at < text.length; at += piece) {
    socket.write(text.slice(at, at + piece));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Collects the body as text, one item per push (copied: the bytes are reused after the call). */
function textParser(head: ResponseHead, heads: ResponseHead[]): BodyParser<{ text: string; release(): void }> {
  heads.push(head);
  return {
    push: (bytes) => [{ text: Buffer.from(bytes).toString('latin1'), release: () => undefined }],
    end: () => undefined,
    abandon: () => undefined,
  };
}

async function readText(url: URL, heads: ResponseHead[] = []): Promise<string> {
  let text = '';
  const options = { headers: { Accept: 'text/plain' }, timeoutMs: 2_000, timeoutError: () => new Error('timeout') };
  for await (const item of streamedGet(url, options, (head) => textParser(head, heads))) text += item.text;
  return text;
}

describe('streamedGet', () => {
  it('sends one GET with the headers given, and reads a Content-Length body', async () => {
    let seen = '';
    const url = await serve((socket, request) => {
      seen = request;
      void trickle(socket, 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-A: 1\r\nX-A: 2\r\n\r\nhello worldIGNORED');
    });
    const heads: ResponseHead[] = [];
    expect(await readText(url, heads)).toBe('hello world');
    expect(seen).toMatch(/^GET \/dicom-web\/studies\/1\.2\?x=1 HTTP\/1\.1\r\n/);
    expect(seen).toContain('\r\nAccept: text/plain\r\n');
    expect(seen).toContain('\r\nConnection: close\r\n');
    expect(heads).toEqual([{ status: 200, headers: { 'content-length': '11', 'x-a': '1, 2' } }]);
  });

  it('reads a chunked body (extensions, trailers) after an interim response, split anywhere', async () => {
    const url = await serve((socket) => {
      const chunked = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
      void trickle(socket, `${chunked}5;name=v\r\nhello\r\n1\r\n \r\n0005\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n`, 2);
    });
    const heads: ResponseHead[] = [];
    expect(await readText(url, heads)).toBe('hello world');
    expect(heads.map((head) => head.status)).toEqual([200]);
  });

  it('reads a body that ends with the connection', async () => {
    const url = await serve((socket) => {
      void trickle(socket, 'HTTP/1.1 200 OK\r\n\r\nall of it').then(() => socket.end());
    });
    expect(await readText(url)).toBe('all of it');
  });

  it('fails when the connection closes before the response ended', async () => {
    const url = await serve((socket) => {
      void trickle(socket, 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort').then(() => socket.end());
    });
    await expect(readText(url)).rejects.toThrow(HttpResponseError);
  });

  it('fails on what is not HTTP/1.1, and with the error of a head the parser refuses', async () => {
    const garbage = await serve((socket) => socket.end('SSH-2.0-OpenSSH\r\n\r\n'));
    await expect(readText(garbage)).rejects.toThrow('not an HTTP/1.1 response');
    await new Promise((resolve) => server?.close(resolve));
    const missing = await serve((socket) => socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
    const refusal = new Error('not found');
    const options = { headers: {}, timeoutMs: 2_000, timeoutError: () => new Error('timeout') };
    const parts = streamedGet(missing, options, () => {
      throw refusal;
    });
    await expect(parts.next()).rejects.toBe(refusal);
  });

  it('times out a silent server, and gives the caller’s own reason when it aborts', async () => {
    const url = await serve(() => undefined);
    const timeout = new Error('timed out');
    const options = { headers: {}, timeoutMs: 100, timeoutError: () => timeout };
    await expect(streamedGet(url, options, (head) => textParser(head, [])).next()).rejects.toBe(timeout);
    const reason = new Error('viewer went away');
    const aborted = streamedGet(url, { ...options, timeoutMs: 5_000, signal: AbortSignal.abort(reason) }, (head) =>
      textParser(head, []),
    );
    await expect(aborted.next()).rejects.toBe(reason);
  });

  it('feeds a multipart body to a scanner, which keeps only copies, and releases parts not taken', async () => {
    const pool = new BlockPool({ blockBytes: 64, maxIdleBytes: 64 * 1024 });
    const parts = ['first part', 'second part', 'third part'];
    const body =
      parts.map((part) => `--b\r\nContent-Type: application/dicom\r\n\r\n${part}\r\n`).join('') + '--b--\r\n';
    const url = await serve((socket) => {
      void trickle(socket, `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 5);
    });
    const options = { headers: {}, timeoutMs: 2_000, timeoutError: () => new Error('timeout') };
    const read: string[] = [];
    for await (const part of streamedGet(url, options, () => new MultipartScanner('b', { maxPartBytes: 100, pool }))) {
      read.push(Buffer.from(part.bytes.copy()).toString('latin1'));
      part.release();
    }
    expect(read).toEqual(parts);
    const idle = pool.idleBytes;
    for await (const part of streamedGet(url, options, () => new MultipartScanner('b', { maxPartBytes: 100, pool }))) {
      part.release();
      break; // the rest is not wanted
    }
    expect(pool.idleBytes).toBe(idle);
  });
});
