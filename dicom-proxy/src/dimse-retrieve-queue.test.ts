import { describe, expect, it } from 'vitest';
import { InstanceSink, type ReceivedInstance } from './dimse-instance-file.ts';
import { RetrieveQueue, RetrieveQueueClosedError, type QueuedInstance } from './dimse-retrieve-queue.ts';
import type { InstanceFile } from './study-source.ts';

const flow = { hold: () => undefined, release: () => undefined };

/** An in-memory instance of about `size` bytes. */
function instance(sop: string, size = 1000): QueuedInstance & { discarded: () => boolean } {
  const sink = new InstanceSink({
    fields: { sopClassUid: '1.2.840.10008.5.1.4.1.1.7', sopInstanceUid: sop, transferSyntaxUid: '1.2.840.10008.1.2.1' },
    memoryLimitBytes: 1 << 30,
    spillDirectory: '/nonexistent',
    flow,
  });
  sink.write(Buffer.alloc(size));
  const received = sink.end() as ReceivedInstance;
  let discarded = false;
  const discard = received.discard.bind(received);
  received.discard = () => {
    discarded = true;
    return discard();
  };
  return {
    studyInstanceUid: '1.2.3',
    seriesInstanceUid: '1.2.3.4',
    sopInstanceUid: sop,
    received,
    discarded: () => discarded,
  };
}

describe('RetrieveQueue', () => {
  it('answers at once while there is room, and makes the peer wait when the consumer is behind', async () => {
    const queue = new RetrieveQueue({ maxInstances: 2, maxBytes: 1 << 20 });
    expect(queue.put(instance('1'))).toBeUndefined();
    const full = queue.put(instance('2'));
    expect(full).toBeInstanceOf(Promise);
    let roomAgain = false;
    void full!.then(() => (roomAgain = true));
    const consumer = queue.drain();
    const first = await consumer.next();
    expect((first.value as InstanceFile).sopInstanceUid).toBe('1');
    await full;
    expect(roomAgain).toBe(true);
    queue.end();
    const rest: string[] = [];
    for await (const file of { [Symbol.asyncIterator]: () => consumer }) {
      rest.push(file.sopInstanceUid);
      file.body.destroy();
    }
    expect(rest).toEqual(['2']);
    expect(queue.yielded).toBe(2);
  });

  it('bounds the memory queued, not only the count', () => {
    const queue = new RetrieveQueue({ maxInstances: 100, maxBytes: 5000 });
    expect(queue.put(instance('1', 1000))).toBeUndefined();
    expect(queue.put(instance('2', 4000))).toBeInstanceOf(Promise);
    expect(queue.stats.instances).toBe(2);
    expect(queue.stats.bytes).toBeGreaterThan(5000);
  });

  it('yields the bytes as received', async () => {
    const queue = new RetrieveQueue({ maxInstances: 4, maxBytes: 1 << 20 });
    const one = instance('1', 3000);
    const size = one.received.bytes;
    queue.put(one);
    queue.end();
    for await (const file of queue.drain()) {
      let read = 0;
      for await (const chunk of file.body) read += (chunk as Buffer).length;
      expect(read).toBe(size);
    }
  });

  it('discards what the consumer never took, lets a waiting peer go, and refuses more once closed', async () => {
    const queue = new RetrieveQueue({ maxInstances: 1, maxBytes: 1 << 20 });
    const left = instance('1');
    const waiting = queue.put(left);
    await queue.close();
    await waiting;
    expect(left.discarded()).toBe(true);
    expect(queue.stats).toEqual({ instances: 0, bytes: 0 });
    const late = instance('2');
    expect(() => queue.put(late)).toThrow(RetrieveQueueClosedError);
    expect(late.discarded()).toBe(true);
    const files: InstanceFile[] = [];
    for await (const file of queue.drain()) files.push(file);
    expect(files).toEqual([]);
  });
});
