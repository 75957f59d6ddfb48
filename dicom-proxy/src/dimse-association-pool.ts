/**
 * The bound on simultaneous associations to one DIMSE peer. A PACS accepts only so many (and a
 * small hospital's may accept two), so every C-ECHO / C-FIND / C-GET / C-MOVE of a source takes a
 * slot here first and waits in line when all are taken. dcmjs-dimse's Client releases its
 * association after each request, so a slot is an association for one operation, not a kept-open
 * connection.
 */

export class AssociationSlotAbortedError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('gave up waiting for a free association', options);
    this.name = 'AssociationSlotAbortedError';
  }
}

interface Waiter {
  grant: () => void;
  reject: (error: Error) => void;
}

export class DimseAssociationPool {
  readonly maxAssociations: number;
  private inUse = 0;
  private peak = 0;
  private readonly waiting: Waiter[] = [];

  constructor(maxAssociations: number) {
    if (!Number.isInteger(maxAssociations) || maxAssociations < 1) throw new RangeError('maxAssociations must be ≥ 1');
    this.maxAssociations = maxAssociations;
  }

  /** Associations held right now, and the most ever held at once (for tests and metrics). */
  get stats(): { inUse: number; peak: number; waiting: number } {
    return { inUse: this.inUse, peak: this.peak, waiting: this.waiting.length };
  }

  /** Waits for a slot; the returned function gives it back (calling it twice is harmless). */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.inUse < this.maxAssociations) {
      this.take();
    } else {
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          grant: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          reject,
        };
        const onAbort = () => {
          const index = this.waiting.indexOf(waiter);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(new AssociationSlotAbortedError({ cause: signal?.reason }));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(waiter);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release();
    };
  }

  private take(): void {
    this.inUse += 1;
    this.peak = Math.max(this.peak, this.inUse);
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) {
      // The slot passes straight to the next in line: inUse stays the same.
      next.grant();
      return;
    }
    this.inUse -= 1;
  }
}
