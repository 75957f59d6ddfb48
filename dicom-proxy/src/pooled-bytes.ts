import { Readable } from 'node:stream';

/**
 * Instance bytes in fixed-size blocks that are reused rather than left to the garbage collector.
 *
 * Why: an instance lives for several young-generation collections on its way through the proxy
 * (assembled from the upstream's socket reads, written to the cache behind the stream, queued on
 * the client's socket), long enough for V8 to promote its buffers to the old generation. Promoted
 * buffers are freed only by a full collection, which V8 starts once some 64 MB of them have piled
 * up: 40% of the proxy's 150 MB budget. Blocks handed back to a pool are never garbage; what Node
 * allocates per network read is copied into them at once and dies young, freed by a scavenge.
 *
 * Written here rather than taken from a library: Node's own Buffer pool serves only allocations
 * under 4 KB and never takes memory back, and the npm buffer pools manage single buffers, not the
 * bytes of an instance of any size held by several users at once (the disk write and the socket).
 */

/** Bytes of one block: the size of a socket read, so a copied read spans at most two blocks. */
export const BLOCK_BYTES = 64 * 1024;

export interface BlockPoolOptions {
  blockBytes?: number;
  /** Released blocks kept for reuse, in bytes; beyond it they are left to the garbage collector. */
  maxIdleBytes: number;
}

/** A free list of equally sized blocks. */
export class BlockPool {
  readonly blockBytes: number;
  private readonly maxIdleBlocks: number;
  private readonly idle: Buffer[] = [];

  constructor(options: BlockPoolOptions) {
    this.blockBytes = options.blockBytes ?? BLOCK_BYTES;
    this.maxIdleBlocks = Math.floor(options.maxIdleBytes / this.blockBytes);
  }

  /** A block to write into: a reused one when there is one (its old contents are not cleared). */
  acquire(): Buffer {
    // allocUnsafeSlow: a block of its own, never a slice of Node's shared small-buffer pool.
    return this.idle.pop() ?? Buffer.allocUnsafeSlow(this.blockBytes);
  }

  /** Takes a block back; nobody may use it after this. */
  release(block: Buffer): void {
    if (block.byteLength === this.blockBytes && this.idle.length < this.maxIdleBlocks) this.idle.push(block);
  }

  get idleBytes(): number {
    return this.idle.length * this.blockBytes;
  }
}

/** Bytes of the blocks that `size` bytes take (what holding them costs). */
export function pooledBytesFor(size: number, blockBytes = BLOCK_BYTES): number {
  return Math.ceil(size / blockBytes) * blockBytes;
}

/** Bytes handed over with a hold on them: `release` when done with them. */
export interface HeldBytes {
  bytes: PooledBytes;
  release(): void;
}

/**
 * The bytes of one instance (or multipart part). With a pool they are copied into its blocks, and
 * whoever keeps them past an `await` takes a hold: the blocks go back to the pool when the last
 * hold is released, so the disk write and the socket can send the same bytes without copying them
 * or knowing about each other. Without a pool the bytes appended are kept as they are (views, for
 * buffers nobody writes to again) and a release only lets them go.
 */
export class PooledBytes {
  private readonly pool: BlockPool | undefined;
  /** With a pool, full-size blocks filled in order; without, the views appended. */
  private blocks: Buffer[] = [];
  private length = 0;
  private truncated = false;
  private holders = 0;
  private returned = false;

  constructor(pool?: BlockPool) {
    this.pool = pool;
  }

  /** Bytes already in a buffer of their own, as PooledBytes (not copied, no pool). */
  static of(bytes: Uint8Array): PooledBytes {
    const wrapped = new PooledBytes();
    wrapped.append(bytes);
    return wrapped;
  }

  get size(): number {
    return this.length;
  }

  /** Bytes of the blocks held, used or not (what the bytes cost in memory). */
  get heldBytes(): number {
    return this.pool ? this.blocks.length * this.pool.blockBytes : this.length;
  }

  /** The bytes as views of the blocks, in order. */
  get chunks(): Buffer[] {
    this.checkUsable();
    const chunks: Buffer[] = [];
    let left = this.length;
    for (const block of this.blocks) {
      if (left === 0) break;
      const take = Math.min(left, block.byteLength);
      chunks.push(take === block.byteLength ? block : block.subarray(0, take));
      left -= take;
    }
    return chunks;
  }

  /** Adds `bytes` at the end: copied into blocks with a pool, kept as a view without. */
  append(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    if (!this.pool) {
      this.checkUsable();
      if (this.truncated) throw new TypeError('truncated bytes without a pool cannot grow');
      this.blocks.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      this.length += bytes.byteLength;
      return;
    }
    let at = 0;
    for (const view of this.extend(bytes.byteLength)) {
      view.set(bytes.subarray(at, at + view.byteLength));
      at += view.byteLength;
    }
  }

  /** Makes room for `length` more bytes in pool blocks and returns it as views to be filled. */
  extend(length: number): Buffer[] {
    this.checkUsable();
    if (!this.pool) throw new TypeError('bytes without a pool grow only by append');
    const blockBytes = this.pool.blockBytes;
    const views: Buffer[] = [];
    let left = length;
    while (left > 0) {
      const index = Math.floor(this.length / blockBytes);
      const used = this.length - index * blockBytes;
      if (index === this.blocks.length) this.blocks.push(this.pool.acquire());
      const take = Math.min(left, blockBytes - used);
      views.push(this.blocks[index]!.subarray(used, used + take));
      this.length += take;
      left -= take;
    }
    return views;
  }

  /** Drops bytes from the end (e.g. a trailer read along with the content), keeping `size`. */
  truncate(size: number): void {
    if (size > this.length) throw new RangeError(`cannot truncate ${this.length} bytes to ${size}`);
    this.truncated ||= size < this.length;
    this.length = size;
  }

  /** The bytes from `start` to `end` in one new buffer of their own (not pooled). */
  copy(start = 0, end = this.length): Uint8Array {
    const copy = new Uint8Array(Math.max(0, end - start));
    let offset = 0; // of the current chunk within the bytes
    let at = 0;
    for (const chunk of this.chunks) {
      const from = Math.max(start - offset, 0);
      const to = Math.min(end - offset, chunk.byteLength);
      if (from < to) {
        copy.set(chunk.subarray(from, to), at);
        at += to - from;
      }
      offset += chunk.byteLength;
      if (offset >= end) break;
    }
    return copy;
  }

  /**
   * Takes a hold; the function returned releases it (once, however often it is called). When the
   * last hold is released the blocks go back to the pool and these bytes must not be used again.
   */
  hold(): () => void {
    this.checkUsable();
    this.holders += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holders -= 1;
      if (this.holders === 0) this.giveBack();
    };
  }

  /** Bytes with a hold taken for whoever receives them. */
  held(): HeldBytes {
    return { bytes: this, release: this.hold() };
  }

  private giveBack(): void {
    this.returned = true;
    const blocks = this.blocks;
    this.blocks = [];
    this.length = 0;
    if (this.pool) for (const block of blocks) this.pool.release(block);
  }

  private checkUsable(): void {
    if (this.returned) throw new Error('these bytes were released');
  }
}

/**
 * Held bytes as a stream (e.g. an instance's body from a source that reads it whole). Whoever
 * knows the type takes the bytes over with `take` (no copy); read as a plain stream it yields
 * copies, so no reader ever keeps a view of blocks that go back to the pool. The hold is released
 * when the stream ends or is destroyed.
 */
export class PooledBytesStream extends Readable {
  private content: HeldBytes | undefined;

  constructor(content: HeldBytes) {
    super();
    this.content = content;
  }

  /** The bytes and their hold, for the caller to release; the stream is left empty and destroyed. */
  takeBytes(): HeldBytes {
    const content = this.content;
    if (!content) throw new Error('the bytes were already read or taken');
    this.content = undefined;
    this.destroy();
    return content;
  }

  override _read(): void {
    const content = this.content;
    this.content = undefined;
    if (content) {
      for (const chunk of content.bytes.chunks) this.push(Buffer.from(chunk));
      content.release();
    }
    this.push(null);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.content?.release();
    this.content = undefined;
    callback(error);
  }
}
