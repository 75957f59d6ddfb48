import { describe, expect, it } from 'vitest';
import { MultipartError, multipartBoundary, readMultipartRelated } from './multipart-related-reader.ts';
import { BlockPool } from './pooled-bytes.ts';

const boundary = 'telemed-0123456789';

function body(parts: Uint8Array[]): Buffer {
  const pieces: Buffer[] = [Buffer.from('preamble to ignore\r\n')];
  for (const part of parts) {
    pieces.push(
      Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
      Buffer.from(part),
      Buffer.from('\r\n'),
    );
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

/** `bytes` in chunks of the given sizes (cycled). */
async function* chunked(bytes: Buffer, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let index = 0; at < bytes.length; index += 1) {
    const size = sizes[index % sizes.length]!;
    // A fresh buffer per chunk, as a socket hands them over.
    yield Uint8Array.from(bytes.subarray(at, at + size));
    at += size;
  }
}

const partBodies = [
  Uint8Array.from({ length: 300 }, (_, i) => i & 0xff),
  new Uint8Array(0),
  // Bytes that look like the start of a delimiter, then not.
  Buffer.from(`\r\n--telemed-01234567\r\n-x`),
  Uint8Array.from({ length: 97 }, (_, i) => (i * 31) & 0xff),
];

describe('readMultipartRelated', () => {
  it.each([[[1]], [[2, 3]], [[7]], [[13, 1, 40]], [[1000]]])(
    'reads every part whatever the chunking (%j), with and without a pool',
    async (sizes) => {
      for (const pool of [undefined, new BlockPool({ blockBytes: 64, maxIdleBytes: 4096 })]) {
        const read: Buffer[] = [];
        for await (const part of readMultipartRelated(chunked(body(partBodies), sizes), boundary, {
          maxPartBytes: 10_000,
          ...(pool ? { pool } : {}),
        })) {
          expect(part.headers['content-type']).toBe('application/dicom');
          read.push(Buffer.from(part.bytes.copy()));
          part.release();
        }
        expect(read).toEqual(partBodies.map((part) => Buffer.from(part)));
      }
    },
  );

  it('with a pool, copies part bodies so no chunk of the body is kept', async () => {
    const pool = new BlockPool({ blockBytes: 64, maxIdleBytes: 4096 });
    const chunks: Uint8Array[] = [];
    async function* recorded() {
      for await (const chunk of chunked(body(partBodies), [50])) {
        chunks.push(chunk);
        yield chunk;
      }
    }
    const parts = [];
    for await (const part of readMultipartRelated(recorded(), boundary, { maxPartBytes: 10_000, pool }))
      parts.push(part);
    for (const chunk of chunks) chunk.fill(0); // as if the read buffers were reused
    expect(parts.map((part) => Buffer.from(part.bytes.copy()))).toEqual(partBodies.map((part) => Buffer.from(part)));
    for (const part of parts) {
      for (const view of part.bytes.chunks) expect(chunks.some((chunk) => chunk.buffer === view.buffer)).toBe(false);
      part.release();
    }
    expect(pool.idleBytes).toBeGreaterThan(0);
  });

  it('refuses a part over the limit and lets its blocks go', async () => {
    const pool = new BlockPool({ blockBytes: 64, maxIdleBytes: 4096 });
    const parts = readMultipartRelated(chunked(body([new Uint8Array(500)]), [100]), boundary, {
      maxPartBytes: 400,
      pool,
    });
    await expect(parts.next()).rejects.toThrow(MultipartError);
    expect(pool.idleBytes).toBe(6 * 64); // the 384 bytes read of the part, back in the pool
  });

  it('refuses a body that ends before its closing boundary', async () => {
    const truncated = body(partBodies).subarray(0, 200);
    const read = async () => {
      for await (const part of readMultipartRelated(chunked(truncated, [64]), boundary, { maxPartBytes: 1000 }))
        part.release();
    };
    await expect(read()).rejects.toThrow('ended before its closing boundary');
  });

  it('finds the boundary of a Content-Type', () => {
    expect(multipartBoundary('multipart/related; type="application/dicom"; boundary="a b"')).toBe('a b');
    expect(multipartBoundary('multipart/related;boundary=xyz;type=application/dicom')).toBe('xyz');
    expect(multipartBoundary('application/json')).toBeNull();
  });
});
