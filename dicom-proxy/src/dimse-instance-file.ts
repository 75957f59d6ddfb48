import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { IDENTITY_HEAD_BYTES, readInstanceIdentity, type InstanceIdentity } from './part10-identity.ts';

/**
 * One incoming C-STORE as a Part 10 file: a preamble and file meta made here, then the dataset
 * bytes exactly as the PACS sent them (never re-encoded, so private tags, fragments and every
 * Specific Character Set value stay as they are). The meta is written by hand because dcmjs can
 * only write one together with a dataset it re-encodes.
 *
 * An instance up to `memoryLimitBytes` is kept in memory, as the very chunks the socket delivered
 * (no copy): the consumer (the front's cache) writes it to disk once, and a temp file would be a
 * second full write. A larger one (a long multi-frame, a big mammogram) spills to a temp file as
 * soon as it outgrows the limit, so memory stays bounded by the limit whatever the PACS sends.
 */

const IMPLEMENTATION_CLASS_UID = '2.25.253118962914325719434468830432118741411';
const IMPLEMENTATION_VERSION_NAME = 'TELEMED_DIMSE_1';

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

/** Pauses the network while the disk is behind; resumes when all holds are gone. */
export interface FlowControl {
  hold(reason: object): void;
  release(reason: object): void;
}

/** A chunk stream over buffers already in memory, each let go as soon as it is pushed. */
function chunkStream(chunks: (Buffer | undefined)[]): Readable {
  let index = 0;
  return new Readable({
    read() {
      while (index < chunks.length) {
        const chunk = chunks[index]!;
        chunks[index++] = undefined;
        if (!this.push(chunk)) return;
      }
      this.push(null);
    },
  });
}

/** A complete received instance, in memory or in a temp file; opened once, or discarded. */
export class ReceivedInstance {
  readonly fields: FileMetaFields;
  /** Part 10 bytes (meta included). */
  readonly bytes: number;
  /** Of them, how many are held in memory (0 for a spilled instance). */
  readonly memoryBytes: number;
  private readonly head: Buffer[];
  private chunks: Buffer[] | undefined;
  private readonly path: string | undefined;
  private taken = false;

  /** @internal made by InstanceSink */
  constructor(fields: FileMetaFields, bytes: number, head: Buffer[], stored: { chunks: Buffer[] } | { path: string }) {
    this.fields = fields;
    this.bytes = bytes;
    this.head = head;
    if ('path' in stored) this.path = stored.path;
    else this.chunks = stored.chunks;
    this.memoryBytes = this.chunks ? bytes : 0;
  }

  /** Whether the bytes are in a temp file (removed when the body closes, or on `discard`). */
  get spilled(): boolean {
    return this.path !== undefined;
  }

  /**
   * The instance's UIDs read from its head; empty when the head cannot be read (e.g. a deflated
   * data set, in a temp file): the caller then knows the instance by its C-STORE command only.
   */
  identity(): InstanceIdentity {
    try {
      if (this.chunks) return readInstanceIdentity(this.chunks, this.bytes);
      return readInstanceIdentity(this.head, Math.min(this.bytes, IDENTITY_HEAD_BYTES));
    } catch {
      return {};
    }
  }

  /** The Part 10 bytes as a stream; call once (a temp file is removed when the stream closes). */
  open(): Readable {
    if (this.taken) throw new Error('a received instance is opened once');
    this.taken = true;
    if (this.path) {
      const path = this.path;
      const body = createReadStream(path, { highWaterMark: 1024 * 1024 });
      body.once('close', () => void rm(path, { force: true }));
      return body;
    }
    const chunks: (Buffer | undefined)[] = this.chunks!;
    this.chunks = undefined;
    return chunkStream(chunks);
  }

  /** Lets the bytes go (removes a temp file) when nobody will open it. */
  async discard(): Promise<void> {
    if (this.taken) return;
    this.taken = true;
    this.chunks = undefined;
    if (this.path) await rm(this.path, { force: true });
  }
}

export interface InstanceSinkOptions {
  fields: FileMetaFields;
  /** Instances up to this many bytes stay in memory; a larger one spills to a temp file. */
  memoryLimitBytes: number;
  /** Where spilled instances go (must exist). */
  spillDirectory: string;
  /** Held while a spill file's write buffer is full. */
  flow: FlowControl;
}

/**
 * Collects one C-STORE's data set as it arrives. `write` keeps the chunk itself (the caller must
 * not reuse it) and never refuses: backpressure, needed only while a spill file is behind, goes
 * to the socket through `flow`.
 */
export class InstanceSink {
  readonly fields: FileMetaFields;
  private readonly options: InstanceSinkOptions;
  private chunks: Buffer[] = [];
  /** The first bytes, for the identity of a spilled instance (references, not copies). */
  private readonly head: Buffer[] = [];
  private headLength = 0;
  private bytes = 0;
  private file: WriteStream | undefined;
  private path: string | undefined;
  private failure: Error | undefined;
  private closed: Promise<void> | undefined;
  private ended = false;

  constructor(options: InstanceSinkOptions) {
    this.options = options;
    this.fields = options.fields;
    this.append(part10Header(options.fields));
  }

  /** The sink for one C-STORE's data set, its file meta naming `sourceAet` as the sender. */
  static forStore(
    request: Pick<FileMetaFields, 'sopClassUid' | 'sopInstanceUid' | 'transferSyntaxUid'>,
    options: Omit<InstanceSinkOptions, 'fields'> & { sourceAet: string },
  ): InstanceSink {
    const { sourceAet, ...sinkOptions } = options;
    return new InstanceSink({
      ...sinkOptions,
      fields: {
        sopClassUid: request.sopClassUid,
        sopInstanceUid: request.sopInstanceUid,
        transferSyntaxUid: request.transferSyntaxUid,
        sourceAet,
      },
    });
  }

  private append(chunk: Buffer): void {
    if (this.headLength < IDENTITY_HEAD_BYTES) {
      this.head.push(chunk);
      this.headLength += chunk.length;
    }
    this.bytes += chunk.length;
    if (this.file) {
      if (!this.file.write(chunk)) this.options.flow.hold(this);
      return;
    }
    this.chunks.push(chunk);
    if (this.bytes > this.options.memoryLimitBytes) this.spill();
  }

  /** Moves what is in memory to a temp file; later chunks follow it there. */
  private spill(): void {
    const path = join(this.options.spillDirectory, `${randomUUID()}.dcm`);
    const file = createWriteStream(path, { highWaterMark: 1024 * 1024 });
    this.path = path;
    this.file = file;
    file.on('drain', () => this.options.flow.release(this));
    this.closed = new Promise((resolve, reject) => {
      file.once('error', (error) => {
        this.failure ??= error;
        this.options.flow.release(this);
        reject(error);
      });
      file.once('close', () => {
        // A write buffer still full at `end` may never say 'drain'.
        this.options.flow.release(this);
        resolve();
      });
    });
    // Whoever ends the sink sees a failure; a failure nobody waits for must not crash the process.
    this.closed.catch(() => undefined);
    let full = false;
    for (const chunk of this.chunks) full = !file.write(chunk) || full;
    this.chunks = [];
    if (full) this.options.flow.hold(this);
  }

  write(chunk: Buffer): void {
    if (this.ended || this.failure) return;
    this.append(chunk);
  }

  /**
   * The data set is complete: the instance at once when it is in memory, else once its spill
   * file is closed (rejecting, the file removed, when it could not be written).
   */
  end(): ReceivedInstance | Promise<ReceivedInstance> {
    if (this.ended) throw this.failure ?? new Error('instance sink ended twice');
    this.ended = true;
    if (!this.file) return new ReceivedInstance(this.fields, this.bytes, this.head, { chunks: this.chunks });
    return this.closeSpill();
  }

  private async closeSpill(): Promise<ReceivedInstance> {
    this.file!.end();
    try {
      await this.closed;
      if (this.failure) throw this.failure;
    } catch (error) {
      await rm(this.path!, { force: true });
      throw error;
    }
    return new ReceivedInstance(this.fields, this.bytes, this.head, { path: this.path! });
  }

  /** Stops collecting and removes a spill file (the association is gone). */
  abandon(): void {
    this.ended = true;
    this.failure ??= new Error('instance abandoned');
    this.chunks = [];
    this.options.flow.release(this);
    if (this.file) {
      const path = this.path!;
      this.file.destroy();
      void this.closed?.finally(() => rm(path, { force: true })).catch(() => undefined);
    }
  }
}
