import { describe, expect, it } from 'vitest';
import { AssociationSlotAbortedError, DimseAssociationPool } from './dimse-association-pool.ts';

describe('DimseAssociationPool', () => {
  it('never hands out more slots than allowed and serves waiters in order', async () => {
    const pool = new DimseAssociationPool(2);
    const order: number[] = [];
    const releases = await Promise.all([pool.acquire(), pool.acquire()]);
    const third = pool.acquire().then((release) => {
      order.push(3);
      return release;
    });
    const fourth = pool.acquire().then((release) => {
      order.push(4);
      return release;
    });
    expect(pool.stats).toEqual({ inUse: 2, peak: 2, waiting: 2 });
    releases[0]!();
    releases[0]!(); // a second call gives nothing back twice
    const releaseThird = await third;
    expect(pool.stats.waiting).toBe(1);
    releases[1]!();
    (await fourth)();
    releaseThird();
    expect(order).toEqual([3, 4]);
    expect(pool.stats).toEqual({ inUse: 0, peak: 2, waiting: 0 });
  });

  it('lets a waiter give up', async () => {
    const pool = new DimseAssociationPool(1);
    const release = await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AssociationSlotAbortedError);
    release();
    expect(pool.stats).toEqual({ inUse: 0, peak: 1, waiting: 0 });
  });

  it('refuses a nonsensical bound', () => {
    expect(() => new DimseAssociationPool(0)).toThrow(RangeError);
  });
});
