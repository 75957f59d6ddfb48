import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { BlockPool, PooledBytes, PooledBytesStream, type HeldBytes } from './pooled-bytes.ts';

/**
 * Disk cache of Part 10 instances in front of the PACS sources. Layout under the directory:
 *
 *   instances/<source>/<study>/<series>/<sop>.part10  the file as the source sent it, then a trailer
 *   series/<source>/<study>/<series>.json             SOP Instance UIDs of a fully retrieved series
 *   tmp/                                              writes in progress, renamed when complete
 *
 * The 16-byte trailer is `TMC1`, the CRC-32 of the Part 10 bytes and their length (both little
 * endian, the length in 8 bytes). An entry is served only when its bytes match its trailer
 * (checked on every read), so a torn, truncated or flipped file is dropped and fetched again.
 * One file per entry: a hit is one open, one read and one close; a store one write and one rename.
 * Bytes staged for a store or read for a stream of instances are held in blocks of a pool
 * (pooled-bytes.ts), so a whole-series retrieve leaves no instance-sized garbage behind.
 * CRC-32 (zlib's, SIMD) rather than a cryptographic hash: it guards against damage, not an
 * attacker who can write the cache directory, and costs half as much CPU on every hit.
 * Eviction is least recently used by bytes on disk; the order survives a restart through file
 * mtimes (touched at most once a minute per entry on a hit).
 */

export interface InstanceKey {
  sourceId: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
}

export interface SeriesKey {
  sourceId: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
}

export interface InstanceCacheOptions {
  directory: string;
  maxBytes: number;
  /** Blocks for the bytes of instances being staged and read (`stage`, `readHeld`). */
  pool?: BlockPool;
}

/** Fetches one instance's Part 10 bytes from upstream (called at most once per key at a time). */
export type InstanceFetch = () => Promise<AsyncIterable<Uint8Array>>;

// Source ids are validated by the config schema and UIDs by dicomUidSchema, so these are safe path
// segments; the check keeps a programming error from ever writing outside the directory.
const safeSegment = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function segments(key: SeriesKey): string[] {
  const parts = [key.sourceId, key.studyInstanceUid, key.seriesInstanceUid];
  for (const part of parts) if (!safeSegment.test(part)) throw new Error(`unsafe cache path segment: ${part}`);
  return parts;
}

const ENTRY_SUFFIX = '.part10';
const TRAILER_MAGIC = 0x31434d54; // 'TMC1' read as a little-endian uint32
const TRAILER_BYTES = 16;

function trailer(checksum: number, size: number): Buffer {
  const bytes = Buffer.alloc(TRAILER_BYTES);
  bytes.writeUInt32LE(TRAILER_MAGIC, 0);
  bytes.writeUInt32LE(checksum, 4);
  bytes.writeBigUInt64LE(BigInt(size), 8);
  return bytes;
}

/**
 * The size of the Part 10 bytes of an entry file read as `chunks` (`fileSize` bytes in all), if
 * its trailer vouches for them.
 */
function verifiedContentSize(chunks: readonly Uint8Array[], fileSize: number): number | undefined {
  if (fileSize < TRAILER_BYTES) return undefined;
  const size = fileSize - TRAILER_BYTES;
  const tail = Buffer.allocUnsafe(TRAILER_BYTES); // small: a slice of Node's shared buffer pool
  let checksum = 0;
  let at = 0;
  for (const chunk of chunks) {
    const content = Math.max(0, Math.min(chunk.byteLength, size - at));
    if (content > 0) checksum = crc32(content === chunk.byteLength ? chunk : chunk.subarray(0, content), checksum);
    if (content < chunk.byteLength) tail.set(chunk.subarray(content), at + content - size);
    at += chunk.byteLength;
  }
  if (tail.readUInt32LE(0) !== TRAILER_MAGIC || tail.readBigUInt64LE(8) !== BigInt(size)) return undefined;
  return checksum === tail.readUInt32LE(4) ? size : undefined;
}

// The callback API: plain descriptors, no FileHandle objects for the garbage collector to chase.
const openFd = promisify(fs.open);
const closeFd = promisify(fs.close);
const readvFd = promisify(fs.readv);
const writevFd = promisify(fs.writev);
const writeFd = promisify(fs.write);

/**
 * Fills `views` (`length` bytes in all) with a file and tells whether it is exactly that long;
 * false too if it cannot be read.
 */
async function readExactlyInto(file: string, views: readonly Uint8Array[], length: number): Promise<boolean> {
  let fd: number;
  try {
    fd = await openFd(file, 'r');
  } catch {
    return false;
  }
  try {
    // One byte more than expected: a longer file is as wrong as a shorter one.
    const oneMore = Buffer.allocUnsafe(1);
    let at = 0;
    for (;;) {
      // readv takes at most IOV_MAX buffers: a large instance is read in several calls.
      const rest = viewsFrom(views, at);
      const batch = rest.length < 1024 ? [...rest, oneMore] : rest.slice(0, 1024);
      const { bytesRead } = await readvFd(fd, batch, at);
      if (bytesRead === 0) break;
      at += bytesRead;
      if (at > length) return false;
    }
    return at === length;
  } catch {
    return false;
  } finally {
    await closeFd(fd).catch(() => undefined);
  }
}

/** What is left of `views` after their first `skip` bytes. */
function viewsFrom(views: readonly Uint8Array[], skip: number): Uint8Array[] {
  if (skip === 0) return [...views];
  const rest: Uint8Array[] = [];
  for (const view of views) {
    if (skip >= view.byteLength) skip -= view.byteLength;
    else {
      rest.push(skip === 0 ? view : view.subarray(skip));
      skip = 0;
    }
  }
  return rest;
}

/** Writes `chunks` (`size` bytes) to a new file. */
async function writeChunks(file: string, chunks: readonly Uint8Array[], size: number): Promise<void> {
  const fd = await openFd(file, 'w');
  try {
    // writev takes at most IOV_MAX buffers and may write less than asked: finish piecewise then.
    let written = chunks.length <= 1024 ? (await writevFd(fd, chunks as Uint8Array[])).bytesWritten : 0;
    if (written < size) {
      let skip = written;
      for (const chunk of chunks) {
        if (skip >= chunk.byteLength) {
          skip -= chunk.byteLength;
          continue;
        }
        let offset = skip;
        skip = 0;
        while (offset < chunk.byteLength) {
          const { bytesWritten } = await writeFd(fd, chunk, offset, chunk.byteLength - offset, written);
          offset += bytesWritten;
          written += bytesWritten;
        }
      }
    }
  } finally {
    await closeFd(fd);
  }
}

/** A plain Uint8Array view (callers compare and slice bytes; Buffer's extras are not part of the API). */
function plainBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

export class InstanceCache {
  private readonly directory: string;
  private readonly maxBytes: number;
  private readonly pool: BlockPool;
  /** Relative path → size, least recently used first (Map keeps insertion order). */
  private readonly entries = new Map<string, number>();
  private totalBytes = 0;
  private readonly inFlight = new Map<string, Promise<Uint8Array>>();
  /** Series directories known to exist (saves a mkdir per instance). */
  private readonly madeDirectories = new Set<string>();
  /** When each entry's mtime was last touched (the LRU order on disk needs no finer grain). */
  private readonly touchedAt = new Map<string, number>();

  private constructor(options: InstanceCacheOptions) {
    this.directory = options.directory;
    this.maxBytes = options.maxBytes;
    // Without a shared one (tests, tools), a pool of the cache's own that keeps a few blocks.
    this.pool = options.pool ?? new BlockPool({ maxIdleBytes: 4 * 1024 ** 2 });
  }

  /** Opens (creating if needed) the cache and rebuilds its index from what is on disk. */
  static async open(options: InstanceCacheOptions): Promise<InstanceCache> {
    const cache = new InstanceCache(options);
    await rm(join(options.directory, 'tmp'), { recursive: true, force: true });
    await mkdir(join(options.directory, 'tmp'), { recursive: true });
    await mkdir(join(options.directory, 'instances'), { recursive: true });
    await cache.rebuildIndex();
    return cache;
  }

  get sizeBytes(): number {
    return this.totalBytes;
  }

  get entryCount(): number {
    return this.entries.size;
  }

  private async rebuildIndex(): Promise<void> {
    const found: { path: string; size: number; mtime: number }[] = [];
    const root = join(this.directory, 'instances');
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      // Anything else (e.g. entries of an earlier layout) is not served and would only take space.
      if (!entry.name.endsWith(ENTRY_SUFFIX)) {
        await rm(path, { force: true });
        continue;
      }
      const info = await stat(path).catch(() => undefined);
      if (info) found.push({ path: relative(root, path), size: info.size, mtime: info.mtimeMs });
    }
    found.sort((a, b) => a.mtime - b.mtime);
    for (const { path, size } of found) {
      this.entries.set(path, size);
      this.totalBytes += size;
    }
    await this.evict();
  }

  private relativePath(key: InstanceKey): string {
    if (!safeSegment.test(key.sopInstanceUid)) throw new Error(`unsafe cache path segment: ${key.sopInstanceUid}`);
    return [...segments(key), `${key.sopInstanceUid}${ENTRY_SUFFIX}`].join(sep);
  }

  private absolute(relativePath: string): string {
    return join(this.directory, 'instances', relativePath);
  }

  has(key: InstanceKey): boolean {
    return this.entries.has(this.relativePath(key));
  }

  /** The size of a cached instance's Part 10 bytes, if it is cached (not yet verified). */
  storedSize(key: InstanceKey): number | undefined {
    const size = this.entries.get(this.relativePath(key));
    return size === undefined ? undefined : size - TRAILER_BYTES;
  }

  /** The verified bytes of a cached instance, in one buffer, or `undefined` (a bad entry is removed). */
  async read(key: InstanceKey): Promise<Uint8Array | undefined> {
    let file: Buffer | undefined;
    const size = await this.readEntry(key, (fileSize) => [(file = Buffer.allocUnsafe(fileSize))]);
    return size === undefined || !file ? undefined : plainBytes(file.subarray(0, size));
  }

  /**
   * Like `read`, with the bytes in blocks of the cache's pool (for a stream of instances, where a
   * buffer per instance would be garbage that piles up): `release` once they have been sent.
   */
  async readHeld(key: InstanceKey): Promise<HeldBytes | undefined> {
    const { bytes, release } = new PooledBytes(this.pool).held();
    const size = await this.readEntry(key, (fileSize) => bytes.extend(fileSize));
    if (size === undefined) {
      release();
      return undefined;
    }
    bytes.truncate(size); // the trailer
    return { bytes, release };
  }

  /**
   * Reads an entry file into the buffers `into` gives for its size and verifies it against its
   * trailer; the size of its Part 10 bytes, or `undefined` (a bad entry is removed).
   */
  private async readEntry(key: InstanceKey, into: (fileSize: number) => Uint8Array[]): Promise<number | undefined> {
    const path = this.relativePath(key);
    const expected = this.entries.get(path);
    if (expected === undefined) return undefined;
    const file = this.absolute(path);
    const views = into(expected);
    const size = (await readExactlyInto(file, views, expected)) ? verifiedContentSize(views, expected) : undefined;
    if (size === undefined) {
      // Only if the entry was not rewritten meanwhile (a fresh write must not be dropped).
      if (this.entries.get(path) === expected && !this.inFlight.has(path)) await this.remove(path);
      return undefined;
    }
    if (this.entries.has(path)) {
      this.entries.delete(path);
      this.entries.set(path, expected);
    }
    // The mtime only orders eviction after a restart: once a minute per entry is enough, and never awaited.
    const now = Date.now();
    if (now - (this.touchedAt.get(path) ?? 0) > 60_000) {
      this.touchedAt.set(path, now);
      const date = new Date(now);
      fs.utimes(file, date, date, () => undefined);
    }
    return size;
  }

  /**
   * The instance from the cache, else from `fetch` (stored, then returned). Concurrent callers for
   * the same key share one upstream fetch.
   */
  async readOrFetch(key: InstanceKey, fetch: InstanceFetch): Promise<Uint8Array> {
    const cached = await this.read(key);
    if (cached) return cached;
    const path = this.relativePath(key);
    let pending = this.inFlight.get(path);
    if (!pending) {
      pending = (async () => this.write(key, await fetch()))();
      this.inFlight.set(path, pending);
      const forget = () => this.inFlight.delete(path);
      pending.then(forget, forget);
    }
    return pending;
  }

  /** Stores an instance streamed from upstream; returns its bytes (one instance in memory). */
  async write(key: InstanceKey, body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
    const { bytes, release, stored } = await this.stage(key, body);
    try {
      await stored;
      return bytes.copy();
    } finally {
      release();
    }
  }

  /**
   * Like `write`, but hands the bytes back (in blocks of the cache's pool: `release` them once
   * sent) as soon as they are in memory; `stored` settles once they are on disk (rejecting if that
   * failed), so a caller can send them on while the disk works.
   */
  async stage(key: InstanceKey, body: AsyncIterable<Uint8Array>): Promise<HeldBytes & { stored: Promise<void> }> {
    const path = this.relativePath(key);
    const temporary = join(this.directory, 'tmp', randomUUID());
    const { bytes, release } = await this.pooled(body);
    let checksum = 0;
    for (const chunk of bytes.chunks) checksum = crc32(chunk, checksum);
    const stored = this.store(path, temporary, bytes, checksum);
    // Marked handled: a caller that only wants the bytes must not crash the process when the disk fails.
    stored.catch(() => undefined);
    return { bytes, release, stored };
  }

  /**
   * A body's bytes in pooled blocks: taken over when it already is (a PooledBytesStream), else
   * copied chunk by chunk as it streams in, so each chunk (a socket or file read) dies young.
   */
  private async pooled(body: AsyncIterable<Uint8Array>): Promise<HeldBytes> {
    if (body instanceof PooledBytesStream) return body.takeBytes();
    const held = new PooledBytes(this.pool).held();
    try {
      for await (const chunk of body) held.bytes.append(chunk);
    } catch (error) {
      held.release();
      throw error;
    }
    return held;
  }

  private async store(path: string, temporary: string, bytes: PooledBytes, checksum: number): Promise<void> {
    const release = bytes.hold(); // taken before the first await: the caller may release its own at once
    const size = bytes.size;
    const fileSize = size + TRAILER_BYTES;
    try {
      await writeChunks(temporary, [...bytes.chunks, trailer(checksum, size)], fileSize);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    } finally {
      release();
    }
    const file = this.absolute(path);
    const directory = dirname(file);
    if (!this.madeDirectories.has(directory)) {
      await mkdir(directory, { recursive: true });
      if (this.madeDirectories.size > 10_000) this.madeDirectories.clear();
      this.madeDirectories.add(directory);
    }
    const previous = this.entries.get(path);
    if (previous !== undefined) {
      this.totalBytes -= previous;
      this.entries.delete(path);
    }
    try {
      await rename(temporary, file);
    } catch (error) {
      await Promise.all([rm(temporary, { force: true }), rm(file, { force: true })]);
      throw error;
    }
    this.entries.delete(path);
    this.entries.set(path, fileSize);
    this.totalBytes += fileSize;
    await this.evict(path);
  }

  private async remove(path: string): Promise<void> {
    const size = this.entries.get(path);
    if (size !== undefined) this.totalBytes -= size;
    this.entries.delete(path);
    this.touchedAt.delete(path);
    await rm(this.absolute(path), { force: true });
  }

  /** Drops least recently used entries until under the limit (never the one just written). */
  private async evict(keep?: string): Promise<void> {
    for (const path of this.entries.keys()) {
      if (this.totalBytes <= this.maxBytes) return;
      if (path !== keep) await this.remove(path);
    }
  }

  private seriesFile(key: SeriesKey): string {
    const [source, study, series] = segments(key);
    return join(this.directory, 'series', source ?? '', study ?? '', `${series}.json`);
  }

  /** Remembers that a series was retrieved whole: these are all its instances. */
  async rememberSeries(key: SeriesKey, sopInstanceUids: readonly string[]): Promise<void> {
    const file = this.seriesFile(key);
    await mkdir(dirname(file), { recursive: true });
    const temporary = join(this.directory, 'tmp', randomUUID());
    await writeFile(temporary, JSON.stringify({ sopInstanceUids }));
    await rename(temporary, file);
  }

  /**
   * The instances of a series retrieved whole before, when every one of them is still cached
   * (then the series can be served without asking upstream); otherwise `undefined`.
   */
  async cachedSeries(key: SeriesKey): Promise<InstanceKey[] | undefined> {
    const text = await readFile(this.seriesFile(key), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    let uids: unknown;
    try {
      uids = (JSON.parse(text) as { sopInstanceUids?: unknown }).sopInstanceUids;
    } catch {
      return undefined;
    }
    if (!Array.isArray(uids) || !uids.every((uid) => typeof uid === 'string' && safeSegment.test(uid)))
      return undefined;
    const keys = (uids as string[]).map((sopInstanceUid) => ({ ...key, sopInstanceUid }));
    return keys.every((instance) => this.has(instance)) ? keys : undefined;
  }
}
