import type { ReceivedInstance } from './dimse-instance-file.ts';
import type { InstanceFile } from './study-source.ts';

/**
 * Received instances between the network and the consumer of one retrieve, C-GET and C-MOVE
 * alike. `put` says at once (synchronously) when there is room, so the C-STORE response goes out
 * before the consumer even runs; otherwise it resolves once the consumer has taken enough, and
 * the response waits for it: a consumer that is behind makes the PACS wait (it sends the next
 * instance only after the response), and at most `maxInstances` instances or about `maxBytes` of
 * memory are ever queued. `drain` yields them in order; when the consumer stops early, `close`
 * discards whatever is left.
 */

export interface QueuedInstance {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  received: ReceivedInstance;
}

export interface RetrieveQueueLimits {
  /** Instances waiting for the consumer before the peer is made to wait. */
  maxInstances: number;
  /** Bytes in memory waiting for the consumer before the peer is made to wait. */
  maxBytes: number;
}

export class RetrieveQueueClosedError extends Error {
  constructor() {
    super('the retrieve has ended');
    this.name = 'RetrieveQueueClosedError';
  }
}

export class RetrieveQueue {
  private readonly ready: QueuedInstance[] = [];
  private readonly limits: RetrieveQueueLimits;
  private readonly waitingForRoom: (() => void)[] = [];
  private wakeConsumer: (() => void) | undefined;
  private queuedBytes = 0;
  private ended = false;
  private closed = false;
  /** Instances handed to the consumer so far. */
  yielded = 0;

  constructor(limits: RetrieveQueueLimits) {
    this.limits = limits;
  }

  /** Instances and memory bytes queued right now (for tests and metrics). */
  get stats(): { instances: number; bytes: number } {
    return { instances: this.ready.length, bytes: this.queuedBytes };
  }

  private hasRoom(): boolean {
    return this.ready.length < this.limits.maxInstances && this.queuedBytes < this.limits.maxBytes;
  }

  /**
   * Queues an instance: undefined when the peer may send the next one at once, else a promise
   * resolving when it may. Throws RetrieveQueueClosedError (discarding the instance) once closed.
   */
  put(instance: QueuedInstance): Promise<void> | undefined {
    if (this.closed) {
      void instance.received.discard().catch(() => undefined);
      throw new RetrieveQueueClosedError();
    }
    this.ready.push(instance);
    this.queuedBytes += instance.received.memoryBytes;
    this.wakeConsumer?.();
    this.wakeConsumer = undefined;
    return this.hasRoom() ? undefined : this.room();
  }

  private async room(): Promise<void> {
    while (!this.hasRoom() && !this.closed) {
      await new Promise<void>((resolve) => this.waitingForRoom.push(resolve));
    }
  }

  /** No more instances will come. */
  end(): void {
    this.ended = true;
    this.wakeConsumer?.();
    this.wakeConsumer = undefined;
  }

  private letProducersGo(): void {
    for (const resolve of this.waitingForRoom.splice(0)) resolve();
  }

  async *drain(): AsyncGenerator<InstanceFile> {
    for (;;) {
      const next = this.ready.shift();
      if (next) {
        this.queuedBytes -= next.received.memoryBytes;
        this.letProducersGo();
        this.yielded += 1;
        yield {
          studyInstanceUid: next.studyInstanceUid,
          seriesInstanceUid: next.seriesInstanceUid,
          sopInstanceUid: next.sopInstanceUid,
          body: next.received.open(),
        };
        continue;
      }
      if (this.ended || this.closed) return;
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
  }

  /** Lets every waiting `put` go and discards what the consumer never took. */
  async close(): Promise<void> {
    this.closed = true;
    this.letProducersGo();
    const leftovers = this.ready.splice(0);
    this.queuedBytes = 0;
    await Promise.all(leftovers.map((leftover) => leftover.received.discard()));
  }
}
