import type { types } from 'mediasoup';
import type { MediaSource } from '@telemed/contract';

/**
 * What the SFU gives way on when a receiver's link is thin, in the order the project keeps
 * alive: voices first, then the presenter's video (the joint read's presenter, or a shared
 * screen), then everyone else's video. mediasoup shares a transport's estimated outgoing bitrate
 * among its consumers by priority (a consumer of priority n gets n tries per round to climb a
 * layer), so the presenter's video climbs before anyone else's and keeps its layer longest.
 * (The joint read's sync is a data channel between browsers and signaling: not SFU media.)
 */
export const CONSUMER_PRIORITY = { audio: 255, presenterVideo: 16, otherVideo: 1 } as const;

export function consumerPriority(kind: types.MediaKind, source: MediaSource, fromPresenter: boolean): number {
  if (kind === 'audio') return CONSUMER_PRIORITY.audio;
  return source === 'screen' || fromPresenter ? CONSUMER_PRIORITY.presenterVideo : CONSUMER_PRIORITY.otherVideo;
}

/** A consumer as far as the sender's layer demand is concerned. */
export interface LayerDemandingConsumer {
  closed: boolean;
  /** Paused by its receiver: nothing is forwarded, whatever the layer. */
  paused: boolean;
  preferredLayers?: { spatialLayer: number } | undefined;
}

/**
 * The highest spatial layer any receiver of a simulcast producer takes now (a consumer without a
 * preference takes the top one); null when nobody receives it. The sender need not encode and
 * upload the layers above: on a thin uplink that is most of what it sends.
 */
export function neededSpatialLayer(consumers: Iterable<LayerDemandingConsumer>, layerCount: number): number | null {
  let needed: number | null = null;
  for (const consumer of consumers) {
    if (consumer.closed || consumer.paused) continue;
    const layer = Math.min(consumer.preferredLayers?.spatialLayer ?? layerCount - 1, layerCount - 1);
    needed = needed === null ? layer : Math.max(needed, layer);
  }
  return needed;
}
