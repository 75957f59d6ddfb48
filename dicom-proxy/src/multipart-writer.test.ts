import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { multipartBoundary, readMultipartRelated } from './multipart-related-reader.ts';
import { MultipartRelatedWriter } from './multipart-writer.ts';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** Serves one multipart answer written by `write`, and reads it back part by part. */
async function roundTrip(write: (writer: MultipartRelatedWriter) => Promise<void>): Promise<Buffer[]> {
  let finished!: Promise<unknown>;
  server = createServer((_, response) => {
    // 'finish': everything handed to the kernel, so every write's callback has run.
    finished = new Promise((resolve) => response.once('finish', resolve));
    const writer = new MultipartRelatedWriter(response, 'application/dicom');
    void write(writer).then(() => writer.end());
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}/`);
  const boundary = multipartBoundary(response.headers.get('content-type'));
  const parts: Buffer[] = [];
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  for await (const part of readMultipartRelated(body, boundary!, { maxPartBytes: 1 << 24 })) {
    parts.push(Buffer.from(part.bytes.copy()));
  }
  await finished;
  return parts;
}

describe('MultipartRelatedWriter', () => {
  it('sends parts given as chunks, and says when the socket is done with each', async () => {
    const sent: number[] = [];
    const big = Buffer.alloc(3 * 1024 * 1024, 7); // more than is queued before waiting for a drain
    const parts = await roundTrip(async (writer) => {
      await writer.writePartChunks([Buffer.from('ab'), Buffer.from('cd')], 4, 'application/dicom', {
        sent: () => sent.push(1),
      });
      await writer.writePartChunks([big.subarray(0, 1000), big.subarray(1000)], big.length, 'application/dicom', {
        sent: () => sent.push(2),
      });
      await writer.writePartChunks([], 0, 'application/dicom', { sent: () => sent.push(3) });
    });
    expect(parts).toEqual([Buffer.from('abcd'), big, Buffer.alloc(0)]);
    expect(sent).toEqual([1, 2, 3]);
  });
});
