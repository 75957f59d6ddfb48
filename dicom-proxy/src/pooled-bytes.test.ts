import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { BlockPool, PooledBytes, PooledBytesStream, pooledBytesFor } from './pooled-bytes.ts';

const pattern = (length: number, seed = 0) => Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);

describe('PooledBytes', () => {
  it('copies what is appended into blocks of the pool, across block boundaries', () => {
    const pool = new BlockPool({ blockBytes: 16, maxIdleBytes: 1024 });
    const bytes = new PooledBytes(pool);
    const source = pattern(50);
    bytes.append(source.subarray(0, 10));
    bytes.append(source.subarray(10, 37));
    bytes.append(source.subarray(37));
    expect(bytes.size).toBe(50);
    expect(bytes.heldBytes).toBe(64);
    expect(bytes.chunks.map((chunk) => chunk.byteLength)).toEqual([16, 16, 16, 2]);
    expect(Buffer.concat(bytes.chunks)).toEqual(Buffer.from(source));
    source.fill(0); // a copy: the source may be reused at once
    expect(bytes.copy()).toEqual(pattern(50));
    expect(bytes.copy(14, 20)).toEqual(pattern(50).subarray(14, 20));
  });

  it('hands its blocks back when the last hold is released, and only then', () => {
    const pool = new BlockPool({ blockBytes: 16, maxIdleBytes: 1024 });
    const bytes = new PooledBytes(pool);
    const first = bytes.hold();
    bytes.append(pattern(40));
    const second = bytes.hold();
    first();
    first(); // a second call of the same release changes nothing
    expect(pool.idleBytes).toBe(0);
    expect(bytes.copy()).toEqual(pattern(40));
    second();
    expect(pool.idleBytes).toBe(48);
    expect(() => bytes.chunks).toThrow('released');
  });

  it('reuses released blocks, keeping no more idle than allowed', () => {
    const pool = new BlockPool({ blockBytes: 16, maxIdleBytes: 32 });
    const a = new PooledBytes(pool).held();
    a.bytes.append(pattern(48));
    const blocks = a.bytes.chunks;
    a.release();
    expect(pool.idleBytes).toBe(32);
    const b = new PooledBytes(pool).held();
    b.bytes.append(pattern(20, 3));
    expect(blocks).toContain(b.bytes.chunks[0]);
    expect(b.bytes.copy()).toEqual(pattern(20, 3));
  });

  it('is filled in place through extend, and truncated to drop a tail', () => {
    const pool = new BlockPool({ blockBytes: 16, maxIdleBytes: 1024 });
    const bytes = new PooledBytes(pool);
    const views = bytes.extend(40);
    expect(views.map((view) => view.byteLength)).toEqual([16, 16, 8]);
    let at = 0;
    for (const view of views) {
      view.set(pattern(40).subarray(at, at + view.byteLength));
      at += view.byteLength;
    }
    bytes.truncate(33);
    expect(bytes.copy()).toEqual(pattern(33));
    bytes.append(pattern(2, 9)); // grows again from the truncated end
    expect(bytes.copy()).toEqual(Uint8Array.from([...pattern(33), ...pattern(2, 9)]));
  });

  it('keeps views without a pool (no copy)', () => {
    const source = pattern(30);
    const bytes = PooledBytes.of(source);
    source[0] = 99;
    expect(bytes.chunks[0]?.[0]).toBe(99);
    expect(bytes.size).toBe(30);
    expect(() => bytes.extend(1)).toThrow();
  });

  it('counts what holding bytes costs in whole blocks', () => {
    expect(pooledBytesFor(0)).toBe(0);
    expect(pooledBytesFor(1)).toBe(64 * 1024);
    expect(pooledBytesFor(64 * 1024 + 1)).toBe(128 * 1024);
  });
});

describe('PooledBytesStream', () => {
  it('hands its bytes over without a copy', () => {
    const pool = new BlockPool({ blockBytes: 16, maxIdleBytes: 1024 });
    const held = new PooledBytes(pool).held();
    held.bytes.append(pattern(20));
    const stream = new PooledBytesStream(held);
    const taken = stream.takeBytes();
    expect(taken.bytes).toBe(held.bytes);
    expect(stream.destroyed).toBe(true);
    expect(pool.idleBytes).toBe(0);
    taken.release();
    expect(pool.idleBytes).toBe(32);
  });

  it('read as a plain stream, yields copies and then lets the blocks go', async () => {
    const pool = new BlockPool({ blockBytes: 16, maxIdleBytes: 1024 });
    const held = new PooledBytes(pool).held();
    held.bytes.append(pattern(20));
    const read = await buffer(new PooledBytesStream(held));
    expect(pool.idleBytes).toBe(32);
    pool.acquire().fill(0);
    expect(read).toEqual(Buffer.from(pattern(20)));
  });

  it('lets the blocks go when destroyed unread', () => {
    const pool = new BlockPool({ blockBytes: 16, maxIdleBytes: 1024 });
    const held = new PooledBytes(pool).held();
    held.bytes.append(pattern(20));
    new PooledBytesStream(held).destroy();
    expect(pool.idleBytes).toBe(32);
  });
});
