import type { types } from 'mediasoup';
import { neededSpatialLayer } from './forwarding-priority.ts';

/** How long a lower demand must last before the sender is told to drop layers (tiles come and go). */
export const LOWER_AFTER_MS = 2_000;

/**
 * Per simulcast producer of a session, the highest layer any of its consumers takes, told to the
 * producer's owner whenever it changes, so the sending browser stops encoding and uploading
 * layers nobody receives (`producer.setMaxSpatialLayer`). A higher demand is told at once (a tile
 * grew, or a receiver resumed); a lower one only once it has lasted LOWER_AFTER_MS, so a tile
 * flicking between sizes does not make the sender restart layers. The SFU is the one place that
 * holds every consumer of a producer, whichever signaling node each receiver is on, so the
 * demand is computed here rather than from copies in Redis.
 */
export class SenderLayerDemand {
  private readonly tracked = new Map<
    string,
    {
      producer: types.Producer;
      consumers: Set<types.Consumer>;
      told: number | null | undefined;
      lowering: ReturnType<typeof setTimeout> | null;
    }
  >();
  private readonly notify: (producer: types.Producer, spatialLayer: number | null) => void;

  constructor(notify: (producer: types.Producer, spatialLayer: number | null) => void) {
    this.notify = notify;
  }

  /** A new producer: only simulcast video has layers to drop. Nobody receives it yet. */
  addProducer(producer: types.Producer): void {
    if (producer.kind !== 'video' || (producer.rtpParameters.encodings?.length ?? 1) < 2) return;
    this.tracked.set(producer.id, { producer, consumers: new Set(), told: undefined, lowering: null });
    producer.observer.on('close', () => {
      const entry = this.tracked.get(producer.id);
      if (entry?.lowering) clearTimeout(entry.lowering);
      this.tracked.delete(producer.id);
    });
    this.review(producer.id);
  }

  addConsumer(consumer: types.Consumer): void {
    const entry = this.tracked.get(consumer.producerId);
    if (!entry) return;
    entry.consumers.add(consumer);
    consumer.observer.on('close', () => {
      entry.consumers.delete(consumer);
      this.review(consumer.producerId);
    });
    this.review(consumer.producerId);
  }

  /** A consumer was paused, resumed or asked for other layers. */
  review(producerId: string): void {
    const entry = this.tracked.get(producerId);
    if (!entry || entry.producer.closed) return;
    const needed = neededSpatialLayer(entry.consumers, entry.producer.rtpParameters.encodings?.length ?? 1);
    if (entry.lowering) clearTimeout(entry.lowering);
    entry.lowering = null;
    if (needed === entry.told) return;
    const tell = () => {
      entry.lowering = null;
      if (entry.producer.closed) return;
      entry.told = needed;
      this.notify(entry.producer, needed);
    };
    // Nobody received it yet (undefined) or nobody does (null): any demand is a raise.
    const raising = needed !== null && (entry.told === undefined || entry.told === null || needed > entry.told);
    if (raising) tell();
    else entry.lowering = setTimeout(tell, LOWER_AFTER_MS);
  }

  /** The layer last told for a producer (undefined before anything was). */
  toldLayer(producerId: string): number | null | undefined {
    return this.tracked.get(producerId)?.told;
  }

  close(): void {
    for (const entry of this.tracked.values()) if (entry.lowering) clearTimeout(entry.lowering);
    this.tracked.clear();
  }
}
