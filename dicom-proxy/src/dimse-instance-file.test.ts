import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstanceSink, part10Header, ReceivedInstance, type FlowControl } from './dimse-instance-file.ts';
import { Part10Instance } from './part10-instance.ts';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const fields = { sopClassUid: '1.2.840.10008.5.1.4.1.1.7', sopInstanceUid: '1.2.3.3', transferSyntaxUid: EXPLICIT_LE };

function element(group: number, number: number, vr: string, value: Buffer): Buffer {
  const long = vr === 'OW' || vr === 'OB';
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(number, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

const uid = (value: string) => Buffer.from(value.length % 2 ? `${value}\0` : value, 'latin1');
const us = (value: number) => Buffer.from([value & 0xff, value >> 8]);

/** A small secondary capture data set, explicit VR little endian, pixel data `pixels`. */
function dataSet(pixels: Buffer): Buffer {
  return Buffer.concat([
    element(0x0008, 0x0016, 'UI', uid(fields.sopClassUid)),
    element(0x0008, 0x0018, 'UI', uid(fields.sopInstanceUid)),
    element(0x0020, 0x000d, 'UI', uid('1.2.3.1')),
    element(0x0020, 0x000e, 'UI', uid('1.2.3.2')),
    element(0x0028, 0x0002, 'US', us(1)),
    element(0x0028, 0x0004, 'CS', Buffer.from('MONOCHROME2 ')),
    element(0x0028, 0x0010, 'US', us(pixels.length / 2 / 64)),
    element(0x0028, 0x0011, 'US', us(64)),
    element(0x0028, 0x0100, 'US', us(16)),
    element(0x0028, 0x0101, 'US', us(16)),
    element(0x0028, 0x0102, 'US', us(15)),
    element(0x0028, 0x0103, 'US', us(0)),
    element(0x7fe0, 0x0010, 'OW', pixels),
  ]);
}

const pixels = Buffer.from(Array.from({ length: 64 * 64 * 2 * 8 }, (_, index) => (index * 7) % 251));
const bytes = dataSet(pixels);

/** Counts holds, like the socket would. */
class CountingFlow implements FlowControl {
  readonly holds = new Set<object>();
  everHeld = false;
  hold(reason: object): void {
    this.holds.add(reason);
    this.everHeld = true;
  }
  release(reason: object): void {
    this.holds.delete(reason);
  }
}

/** Feeds `bytes` in chunks of `size` (each a view into one buffer, as the socket gives them). */
function feed(sink: InstanceSink, size: number): void {
  for (let at = 0; at < bytes.length; at += size) sink.write(bytes.subarray(at, at + size));
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dimse-instance-file-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('InstanceSink', () => {
  it('keeps a small instance in memory, the data set byte for byte behind a Part 10 header', async () => {
    const flow = new CountingFlow();
    const sink = new InstanceSink({ fields, memoryLimitBytes: 1024 * 1024, spillDirectory: dir, flow });
    feed(sink, 1000);
    const instance = sink.end();
    expect(instance).toBeInstanceOf(ReceivedInstance);
    const received = instance as ReceivedInstance;
    const header = part10Header(fields);
    expect(received.spilled).toBe(false);
    expect(received.bytes).toBe(header.length + bytes.length);
    expect(received.memoryBytes).toBe(received.bytes);
    expect(received.identity()).toMatchObject({
      sopInstanceUid: '1.2.3.3',
      studyInstanceUid: '1.2.3.1',
      seriesInstanceUid: '1.2.3.2',
    });
    const body = await readAll(received.open());
    expect(body.equals(Buffer.concat([header, bytes]))).toBe(true);
    expect(Buffer.from(Part10Instance.parse(body).frame(1).bytes).equals(pixels)).toBe(true);
    expect(() => received.open()).toThrow();
    expect(flow.everHeld).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  it('spills a larger one to a temp file, removed once its body is read', async () => {
    const flow = new CountingFlow();
    const sink = new InstanceSink({ fields, memoryLimitBytes: 10_000, spillDirectory: dir, flow });
    feed(sink, 4096);
    const pending = sink.end();
    expect(pending).toBeInstanceOf(Promise);
    const received = await pending;
    expect(received.spilled).toBe(true);
    expect(received.memoryBytes).toBe(0);
    expect(received.identity()).toMatchObject({ sopInstanceUid: '1.2.3.3', seriesInstanceUid: '1.2.3.2' });
    expect(await readdir(dir)).toHaveLength(1);
    const body = received.open();
    const read = await readAll(body);
    expect(read.equals(Buffer.concat([part10Header(fields), bytes]))).toBe(true);
    await new Promise((resolve) => (body.closed ? resolve(undefined) : body.once('close', resolve)));
    await expect.poll(() => readdir(dir)).toEqual([]);
    expect(flow.holds.size).toBe(0);
  });

  it('removes the temp file of an instance discarded or abandoned', async () => {
    const flow = new CountingFlow();
    const spilled = new InstanceSink({ fields, memoryLimitBytes: 0, spillDirectory: dir, flow });
    feed(spilled, 8192);
    await (await spilled.end()).discard();
    expect(await readdir(dir)).toEqual([]);

    const abandoned = new InstanceSink({ fields, memoryLimitBytes: 0, spillDirectory: dir, flow });
    feed(abandoned, 8192);
    abandoned.abandon();
    await expect.poll(() => readdir(dir)).toEqual([]);
    expect(flow.holds.size).toBe(0);
    expect(() => abandoned.end()).toThrow();
  });

  it('rejects an instance whose temp file cannot be written', async () => {
    const sink = new InstanceSink({
      fields,
      memoryLimitBytes: 0,
      spillDirectory: join(dir, 'missing'),
      flow: new CountingFlow(),
    });
    feed(sink, 8192);
    await expect(sink.end()).rejects.toThrow();
  });
});
