import { EventEmitter } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

/**
 * One incoming C-STORE written to a temp file as it arrives: a Part 10 preamble and file meta
 * made here, then the dataset bytes exactly as the PACS sent them (never re-encoded, so private
 * tags, fragments and every Specific Character Set value stay as they are). Written by hand
 * because dcmjs can only write a meta group together with a dataset it re-encodes.
 */

const IMPLEMENTATION_CLASS_UID = '2.25.253118962914325719434468830432118741411';
const IMPLEMENTATION_VERSION_NAME = 'TELEMED_DIMSE_1';
/** Dataset bytes kept in memory to read the instance's UIDs from (the rest goes to disk only). */
const HEAD_BYTES = 64 * 1024;

function element(group: number, elementNumber: number, vr: string, value: Buffer): Buffer {
  const longLength = vr === 'OB';
  const header = Buffer.alloc(longLength ? 12 : 8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(elementNumber, 2);
  header.write(vr, 4, 'latin1');
  if (longLength) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

function text(value: string, padding: '\0' | ' '): Buffer {
  const bytes = Buffer.from(value, 'latin1');
  return bytes.length % 2 ? Buffer.concat([bytes, Buffer.from(padding, 'latin1')]) : bytes;
}

export interface FileMetaFields {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  sourceAet?: string;
}

/** Preamble, `DICM` and the file meta group (PS3.10 §7.1), explicit VR little endian. */
export function part10Header(fields: FileMetaFields): Buffer {
  const elements = [
    element(0x0002, 0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 0x0002, 'UI', text(fields.sopClassUid, '\0')),
    element(0x0002, 0x0003, 'UI', text(fields.sopInstanceUid, '\0')),
    element(0x0002, 0x0010, 'UI', text(fields.transferSyntaxUid, '\0')),
    element(0x0002, 0x0012, 'UI', text(IMPLEMENTATION_CLASS_UID, '\0')),
    element(0x0002, 0x0013, 'SH', text(IMPLEMENTATION_VERSION_NAME, ' ')),
  ];
  if (fields.sourceAet) elements.push(element(0x0002, 0x0016, 'AE', text(fields.sourceAet.trim(), ' ')));
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(elements.reduce((sum, next) => sum + next.length, 0));
  return Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    element(0x0002, 0x0000, 'UL', groupLength),
    ...elements,
  ]);
}

/** Pauses the network while the disk (or the consumer) is behind; resumes when all holds are gone. */
export interface FlowControl {
  hold(reason: object): void;
  release(reason: object): void;
}

export interface WrittenInstanceFile {
  path: string;
  bytes: number;
  /** File meta plus the first dataset bytes, for reading the instance's UIDs. */
  head: Buffer;
}

/**
 * Looks enough like a Writable for dcmjs-dimse's `createStoreWritableStream` hook (`write`,
 * `end`, `once('drain')`), but `write` always answers true: dcmjs-dimse would otherwise await
 * one 'drain' per instance while it keeps parsing later PDUs. Backpressure goes to the socket
 * instead (`flow`), which bounds memory to what is already in flight.
 */
export class InstanceFileSink extends EventEmitter {
  readonly path: string;
  readonly fields: FileMetaFields;
  readonly written: Promise<WrittenInstanceFile>;
  private readonly file: WriteStream;
  private readonly flow: FlowControl;
  private readonly headChunks: Buffer[] = [];
  private headLength = 0;
  private bytes = 0;
  private failure: Error | undefined;
  private rejectWritten: (error: Error) => void = () => undefined;

  constructor(dir: string, fields: FileMetaFields, flow: FlowControl) {
    super();
    this.path = join(dir, `${randomUUID()}.dcm`);
    this.fields = fields;
    this.flow = flow;
    this.file = createWriteStream(this.path, { highWaterMark: 1024 * 1024 });
    this.file.on('drain', () => this.flow.release(this));
    const header = part10Header(fields);
    this.remember(header);
    this.file.write(header);
    this.bytes += header.length;
    this.written = new Promise((resolve, reject) => {
      this.rejectWritten = reject;
      this.file.once('error', (error) => {
        this.failure = error;
        this.flow.release(this);
        reject(error);
      });
      this.file.once('close', () => {
        if (this.failure) return;
        resolve({ path: this.path, bytes: this.bytes, head: Buffer.concat(this.headChunks) });
      });
    });
    // Nobody may be waiting yet; the failure is seen by whoever awaits `written`.
    this.written.catch(() => undefined);
  }

  private remember(chunk: Buffer): void {
    if (this.headLength >= HEAD_BYTES) return;
    const part = chunk.subarray(0, HEAD_BYTES - this.headLength);
    // A copy: the chunk may be a view into a larger network buffer.
    this.headChunks.push(Buffer.from(part));
    this.headLength += part.length;
  }

  write(chunk: Buffer): boolean {
    if (this.failure) return true;
    this.remember(chunk);
    this.bytes += chunk.length;
    if (!this.file.write(chunk)) this.flow.hold(this);
    return true;
  }

  end(): void {
    this.file.end();
  }

  /** Stops writing and leaves the (partial) file for the caller to remove. */
  abandon(): void {
    if (!this.failure) {
      this.failure = new Error('instance file abandoned');
      this.rejectWritten(this.failure);
    }
    this.flow.release(this);
    this.file.destroy();
  }
}
