import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InstanceCache, type InstanceKey } from './instance-cache.ts';
import { BlockPool, PooledBytes, PooledBytesStream } from './pooled-bytes.ts';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'instance-cache-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function key(sop: string): InstanceKey {
  return {
    sourceId: 'pacs-a',
    studyInstanceUid: '1.2.3',
    seriesInstanceUid: '1.2.3.4',
    sopInstanceUid: `1.2.3.4.${sop}`,
  };
}

function instanceBytes(fill: number, size = 1000): Uint8Array {
  return new Uint8Array(size).fill(fill);
}

/** An upstream that counts how often it is asked. */
function countingUpstream(bytes: Uint8Array) {
  const upstream = {
    calls: 0,
    fetch: async () => {
      upstream.calls += 1;
      // Two chunks and a pause between them, like a body arriving over the network.
      return (async function* () {
        yield bytes.subarray(0, 10);
        await new Promise((resolve) => setImmediate(resolve));
        yield bytes.subarray(10);
      })();
    },
  };
  return upstream;
}

function filePath(k: InstanceKey): string {
  return join(
    directory,
    'instances',
    k.sourceId,
    k.studyInstanceUid,
    k.seriesInstanceUid,
    `${k.sopInstanceUid}.part10`,
  );
}

describe('InstanceCache', () => {
  it('misses, then hits without touching the upstream', async () => {
    const cache = await InstanceCache.open({ directory, maxBytes: 10_000 });
    const upstream = countingUpstream(instanceBytes(1));
    expect(await cache.read(key('1'))).toBeUndefined();
    expect(await cache.readOrFetch(key('1'), upstream.fetch)).toEqual(instanceBytes(1));
    expect(await cache.readOrFetch(key('1'), upstream.fetch)).toEqual(instanceBytes(1));
    expect(upstream.calls).toBe(1);
  });

  it('fetches once for many concurrent callers (single flight)', async () => {
    const cache = await InstanceCache.open({ directory, maxBytes: 10_000 });
    const upstream = countingUpstream(instanceBytes(7));
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.readOrFetch(key('1'), upstream.fetch)));
    expect(upstream.calls).toBe(1);
    for (const result of results) expect(result).toEqual(instanceBytes(7));
  });

  it('evicts the least recently used entry first', async () => {
    const cache = await InstanceCache.open({ directory, maxBytes: 2_500 });
    await cache.readOrFetch(key('1'), countingUpstream(instanceBytes(1)).fetch);
    await cache.readOrFetch(key('2'), countingUpstream(instanceBytes(2)).fetch);
    await cache.read(key('1')); // 1 is now more recent than 2
    await cache.readOrFetch(key('3'), countingUpstream(instanceBytes(3)).fetch);
    expect(cache.has(key('1'))).toBe(true);
    expect(cache.has(key('2'))).toBe(false);
    expect(cache.has(key('3'))).toBe(true);
    expect(cache.sizeBytes).toBe(2 * (1_000 + 16)); // bytes on disk: each entry carries a 16-byte trailer
  });

  it.each([
    [
      'a flipped byte',
      (path: string) =>
        readFile(path).then((bytes) =>
          writeFile(
            path,
            bytes.map((b, i) => (i === 500 ? b ^ 1 : b)),
          ),
        ),
    ],
    ['a truncated file', (path: string) => truncate(path, 400)],
    ['a missing trailer', (path: string) => truncate(path, 1_000)],
    ['a trailer for other bytes', (path: string) => appendFile(path, Buffer.alloc(16))],
  ])('never serves an entry with %s: it refetches', async (_, damage) => {
    const cache = await InstanceCache.open({ directory, maxBytes: 10_000 });
    const upstream = countingUpstream(instanceBytes(5));
    await cache.readOrFetch(key('1'), upstream.fetch);
    await damage(filePath(key('1')));
    expect(await cache.readOrFetch(key('1'), upstream.fetch)).toEqual(instanceBytes(5));
    expect(upstream.calls).toBe(2);
    expect((await readFile(filePath(key('1')))).subarray(0, -16)).toEqual(Buffer.from(instanceBytes(5)));
  });

  it('rebuilds its index after a restart and keeps the least recently used order', async () => {
    const first = await InstanceCache.open({ directory, maxBytes: 10_000 });
    await first.readOrFetch(key('1'), countingUpstream(instanceBytes(1)).fetch);
    await first.readOrFetch(key('2'), countingUpstream(instanceBytes(2)).fetch);
    const second = await InstanceCache.open({ directory, maxBytes: 10_000 });
    expect(second.entryCount).toBe(2);
    const upstream = countingUpstream(instanceBytes(9));
    expect(await second.readOrFetch(key('2'), upstream.fetch)).toEqual(instanceBytes(2));
    expect(upstream.calls).toBe(0);
  });

  it('clears files of an earlier layout on open instead of serving or counting them', async () => {
    const first = await InstanceCache.open({ directory, maxBytes: 10_000 });
    await first.readOrFetch(key('1'), countingUpstream(instanceBytes(1)).fetch);
    const seriesDirectory = join(directory, 'instances', 'pacs-a', '1.2.3', '1.2.3.4');
    await mkdir(seriesDirectory, { recursive: true });
    await writeFile(join(seriesDirectory, '1.2.3.4.9.dcm'), instanceBytes(9));
    await writeFile(join(seriesDirectory, '1.2.3.4.9.dcm.sha256'), 'abc 1000\n');
    const second = await InstanceCache.open({ directory, maxBytes: 10_000 });
    expect(second.entryCount).toBe(1);
    expect(await readdir(seriesDirectory)).toEqual(['1.2.3.4.1.part10']);
  });

  it('leaves no entry behind when the upstream fails mid-body', async () => {
    const cache = await InstanceCache.open({ directory, maxBytes: 10_000 });
    const failing = async () =>
      (async function* () {
        yield instanceBytes(1, 10);
        throw new Error('connection reset');
      })();
    await expect(cache.readOrFetch(key('1'), failing)).rejects.toThrow('connection reset');
    expect(cache.has(key('1'))).toBe(false);
    expect(cache.entryCount).toBe(0);
  });

  it('remembers a whole series only while all its instances are cached', async () => {
    const cache = await InstanceCache.open({ directory, maxBytes: 2_500 });
    const series = { sourceId: 'pacs-a', studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4' };
    await cache.readOrFetch(key('1'), countingUpstream(instanceBytes(1)).fetch);
    await cache.readOrFetch(key('2'), countingUpstream(instanceBytes(2)).fetch);
    await cache.rememberSeries(series, ['1.2.3.4.1', '1.2.3.4.2']);
    expect(await cache.cachedSeries(series)).toEqual([key('1'), key('2')]);
    await cache.readOrFetch(key('3'), countingUpstream(instanceBytes(3)).fetch); // evicts 1
    expect(await cache.cachedSeries(series)).toBeUndefined();
  });

  it('reads a hit into blocks of its pool, handed back once released', async () => {
    const pool = new BlockPool({ blockBytes: 256, maxIdleBytes: 64 * 1024 });
    const cache = await InstanceCache.open({ directory, maxBytes: 10_000, pool });
    await cache.readOrFetch(key('1'), countingUpstream(instanceBytes(4)).fetch);
    const held = await cache.readHeld(key('1'));
    expect(held?.bytes.size).toBe(1_000);
    expect(held?.bytes.chunks.map((chunk) => chunk.byteLength)).toEqual([256, 256, 256, 232]);
    expect(held?.bytes.copy()).toEqual(instanceBytes(4));
    held?.release();
    expect(pool.idleBytes).toBe(4 * 256); // the trailer's block too
  });

  it('reads an entry of more blocks than one system call takes', async () => {
    const pool = new BlockPool({ blockBytes: 16, maxIdleBytes: 64 * 1024 });
    const cache = await InstanceCache.open({ directory, maxBytes: 100_000, pool });
    const bytes = Uint8Array.from({ length: 40_000 }, (_, i) => (i * 13) & 0xff);
    await cache.readOrFetch(key('1'), countingUpstream(bytes).fetch);
    const held = await cache.readHeld(key('1'));
    expect(held?.bytes.chunks.length).toBe(2_500);
    expect(held?.bytes.copy()).toEqual(bytes);
    held?.release();
  });

  it('never hands out a damaged entry read into blocks, and lets the blocks go', async () => {
    const pool = new BlockPool({ blockBytes: 256, maxIdleBytes: 64 * 1024 });
    const cache = await InstanceCache.open({ directory, maxBytes: 10_000, pool });
    await cache.readOrFetch(key('1'), countingUpstream(instanceBytes(4)).fetch);
    const path = filePath(key('1'));
    await writeFile(
      path,
      (await readFile(path)).map((b, i) => (i === 999 ? b ^ 1 : b)),
    );
    expect(await cache.readHeld(key('1'))).toBeUndefined();
    expect(cache.has(key('1'))).toBe(false);
    expect(pool.idleBytes).toBe(4 * 256);
  });

  it('takes over the blocks of a pooled body instead of copying them', async () => {
    const pool = new BlockPool({ blockBytes: 256, maxIdleBytes: 64 * 1024 });
    const cache = await InstanceCache.open({ directory, maxBytes: 10_000, pool });
    const upstream = new PooledBytes(pool).held();
    upstream.bytes.append(instanceBytes(6));
    const staged = await cache.stage(key('1'), new PooledBytesStream(upstream));
    expect(staged.bytes).toBe(upstream.bytes);
    await staged.stored;
    staged.release();
    expect(pool.idleBytes).toBe(4 * 256);
    expect(await cache.read(key('1'))).toEqual(instanceBytes(6));
  });

  it('refuses key parts that are not safe path segments', async () => {
    const cache = await InstanceCache.open({ directory, maxBytes: 10_000 });
    await expect(cache.read({ ...key('1'), sourceId: '../etc' })).rejects.toThrow('unsafe');
  });
});
