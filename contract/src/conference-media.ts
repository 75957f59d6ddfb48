import { z } from 'zod';
import { mediaIdSchema, type MediaKind, type MediaSource } from './media.ts';
import type { ParticipantTransportPaths } from './turn-relay.ts';

/**
 * The room's media controls, in a block of their own within the Socket.IO contract (merged into
 * `conferenceRequestSchemas` and friends by conference-events.ts): the screen-share policy the
 * host sets, what a receiver asks of its consumers (pause for tiles nobody sees, the simulcast
 * layer that fits a tile), the quality of what it receives, and the host's per-session media
 * statistics.
 */

/** Spatial and temporal layer indexes: camera video has three of each (see the room's simulcast). */
const layerIndex = z.int().min(0).max(2);

/**
 * How far a site's browser has given way to a thin link, in the fixed order (see the web's
 * link-adaptation.ts): everyone else's video lowered, then paused, then the presenter's lowered,
 * then audio only.
 */
export const linkLevels = ['full', 'others-reduced', 'others-paused', 'presenter-reduced', 'audio-only'] as const;
export const linkLevelSchema = z.enum(linkLevels);
export type LinkLevel = z.infer<typeof linkLevelSchema>;

/** Whether several participants may share a screen at the same time (the host decides). */
export interface ScreenSharePolicy {
  allowMultiple: boolean;
}

export const conferenceMediaRequestSchemas = {
  /** Stop forwarding this consumer's media (its tile is off-screen, paused, or beyond last-N). */
  'consumer:pause': z.strictObject({ consumerId: mediaIdSchema }),
  /**
   * The layers this consumer should get: the spatial layer follows the tile's size (a thumbnail
   * takes the lowest). The SFU falls back to a lower layer when the link cannot carry it.
   */
  'consumer:layers': z.strictObject({
    consumerId: mediaIdSchema,
    spatialLayer: layerIndex,
    temporalLayer: layerIndex.optional(),
  }),
  /** The session's screen-share policy (anyone in the session). */
  'screenShare:policy': z.strictObject({}),
  /** Host only (else `forbidden`): allow or stop allowing several screen shares at once. */
  'screenShare:setPolicy': z.strictObject({ allowMultiple: z.boolean() }),
  /** Host only (else `forbidden`): every participant's media as the SFU sees it now. */
  'session:media-stats': z.strictObject({}),
  /**
   * This site's link level changed: everyone else is told (`participant:link`), so at
   * `audio-only` its tile shows its still avatar and why, not a frozen frame.
   */
  'link:level': z.strictObject({ level: linkLevelSchema }),
  /**
   * This browser's downlink as the SFU measures it (see `DownlinkMeasure`): what the link policy
   * reads, since the browser's own loss figures are taken after retransmissions repaired the
   * loss and mix in every sender's uplink.
   */
  'link:downlink': z.strictObject({}),
} as const;

/**
 * The hop from the SFU to one browser, measured by the SFU from the browser's transport-wide
 * congestion-control feedback, which reports every packet sent on that hop: the share lost
 * before retransmissions repaired it, recent feedback weighted most. Null: not measured yet (no
 * receive transport, no feedback). The SFU's bandwidth estimate of the hop is not part of it:
 * the SFU itself already forwards each receiver the simulcast layers that fit it.
 */
export interface DownlinkMeasure {
  lossPercent: number | null;
}

export interface ConferenceMediaResponses {
  'consumer:pause': Record<string, never>;
  'consumer:layers': Record<string, never>;
  'screenShare:policy': ScreenSharePolicy;
  'screenShare:setPolicy': ScreenSharePolicy;
  'session:media-stats': SessionMediaReport;
  'link:level': Record<string, never>;
  'link:downlink': DownlinkMeasure;
}

/** The SFU's view of one consumer's quality: mediasoup's scores (0–10) and the layer it forwards. */
export interface ConsumerQuality {
  consumerId: string;
  /** How well the stream reaches this receiver (0–10), from its RTCP reports. */
  score: number;
  /** How well the sender's stream reaches the SFU (0–10): the sender's uplink. */
  producerScore: number;
  /**
   * The best of the sender's streams at the SFU (0–10; 0 when it sends nothing). Unlike
   * `producerScore` (that of the stream being forwarded) it says whether there is anything to
   * forward when nothing is.
   */
  bestProducerScore: number;
  /** The layer being forwarded now; null when nothing is (paused, or no layer is active). */
  spatialLayer: number | null;
  temporalLayer: number | null;
}

export interface ConferenceMediaNotifications {
  /** The host changed the screen-share policy. */
  'screenShare:policy': (policy: ScreenSharePolicy) => void;
  /** A consumer's score or forwarded layer changed (mediasoup's `score` and `layerschange`). */
  'consumer:quality': (quality: ConsumerQuality) => void;
  /**
   * To a producer's owner: the highest simulcast layer anyone receives of it now (null: nobody
   * does). The browser stops encoding and sending the layers above (`setMaxSpatialLayer`).
   */
  'producer:layers-needed': (demand: { producerId: string; spatialLayer: number | null }) => void;
  /** Another participant's link level changed (see `link:level`). */
  'participant:link': (event: { participantId: string; level: LinkLevel }) => void;
}

/** What the SFU holds for one producer. */
export interface ProducerMediaStats {
  producerId: string;
  kind: MediaKind;
  source: MediaSource;
  paused: boolean;
  /** Best score among its streams (0–10); null before any media arrived. */
  score: number | null;
  /** Bits per second arriving at the SFU, all layers together. */
  bitrate: number;
  /** Simulcast streams arriving (3 for a camera in good shape). */
  activeLayers: number;
}

/** What the SFU holds for one consumer. */
export interface ConsumerMediaStats {
  consumerId: string;
  producerId: string;
  /** Whose media it is. */
  producerParticipantId: string;
  kind: MediaKind;
  source: MediaSource;
  /** Paused by the receiver (its tile off-screen, paused or beyond last-N): nothing is forwarded. */
  paused: boolean;
  producerPaused: boolean;
  score: number;
  producerScore: number;
  preferredSpatialLayer: number | null;
  /** mediasoup's forwarding priority: voices highest, the presenter's video next, everyone else's last. */
  priority: number;
  currentSpatialLayer: number | null;
  currentTemporalLayer: number | null;
  /** Bits per second the SFU sends. */
  bitrate: number;
}

/** One participant's media at the SFU. Loss is in percent, round-trip time in milliseconds. */
export interface ParticipantMediaStats {
  participantId: string;
  /** Bits per second the SFU receives from the participant (its uplink) and sends to it. */
  uplinkBitrate: number;
  downlinkBitrate: number;
  /** Between the SFU and the participant, from the receiver reports of what it is sent. */
  roundTripTimeMs: number | null;
  /** Packets lost on the way from the participant (worst stream). */
  uplinkLossPercent: number | null;
  /** Packets lost on the way to the participant (worst stream). */
  downlinkLossPercent: number | null;
  /** The SFU's estimate of what the participant's downlink can take. */
  availableDownlinkBitrate: number | null;
  /**
   * Bits per second the SFU holds the participant's downlink and uplink to, from its site's link
   * profile (null: not capped), however high its estimate climbs.
   */
  downlinkCapBitrate: number | null;
  uplinkCapBitrate: number | null;
  /** How its transports reach the SFU, as its browser reported (e.g. `turn-tls` behind a strict firewall). */
  transportPaths?: ParticipantTransportPaths;
  producers: ProducerMediaStats[];
  consumers: ConsumerMediaStats[];
}

/** The host's view of the session's media (`session:media-stats`). */
export interface SessionMediaReport {
  /** UTC, ISO 8601. */
  measuredAt: string;
  participants: ParticipantMediaStats[];
  consumers: number;
  /** Consumers the receivers paused: media the SFU does not forward. */
  pausedConsumers: number;
}
