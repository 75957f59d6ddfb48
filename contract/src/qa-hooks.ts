import type { DownlinkMeasure } from './conference-media.ts';
import type { ParticipantTransportPaths } from './turn-relay.ts';

/**
 * Stable hooks the room page exposes for automated tests and hospital QA, besides its data
 * attributes (`<main data-conference-state>`, `video[data-peer-name][data-site-name]`).
 */

export interface MediaByteCounts {
  inboundAudioBytes: number;
  inboundVideoBytes: number;
  outboundAudioBytes: number;
  outboundVideoBytes: number;
}

export interface TelemedQa {
  /** idle | joining | joined | left | failed */
  conferenceState(): string;
  /** Bytes sent and received so far, from WebRTC statistics. */
  mediaByteCounts(): Promise<MediaByteCounts>;
  /** The joint read's measurements as this screen shows them (lengths in mm, areas in mm²). */
  jointReadMeasurements?(): JointReadMeasurement[];
  /** Rebuilds the call's media transports, as after a failed one (to test the recovery). */
  rebuildMediaTransports?(): Promise<void>;
  /** How this browser's send and receive transports reach the SFU (e.g. `turn-tls`), once known. */
  transportPaths?(): ParticipantTransportPaths;
  /**
   * Feeds the room's link adaptation one synthetic quality sample (from then on measured samples
   * no longer move it) and answers the level it is at after it: proves the degradation order,
   * the banner and the recovery without a shaped link (the link lab shapes real ones).
   */
  feedLinkSample?(sample: QaLinkSample): string;
  /** The room's link level now (full … audio-only). */
  linkLevel?(): string;
  /** The last sample the link adaptation took, measured or fed (null before the first). */
  lastLinkSample?(): QaLinkSample | null;
  /** The SFU's last measure of this browser's downlink, which the link adaptation reads (null before the first). */
  lastDownlink?(): DownlinkMeasure | null;
  /** The highest simulcast layer the own camera sends now (null: no camera). */
  cameraSendLayer?(): number | null;
}

/**
 * Settings a test or QA sets before the room page loads (e.g. Playwright's `addInitScript`):
 * `relayOnly: 'turn-tls'` makes the call reach the SFU through TURN over TLS or not at all, as
 * behind a firewall that lets only TLS out — proof that such a site can still call.
 */
export interface TelemedQaSettings {
  relayOnly?: 'turn-tls';
}

/** One quality sample as the room's link adaptation takes it (null: not measured). */
export interface QaLinkSample {
  availableIncomingKbps: number | null;
  lossPercent: number | null;
  roundTripTimeMs: number | null;
  score: number | null;
  /** A camera asked for gets no layer from the SFU (its estimate of the link cannot fit it). */
  starved?: boolean;
}

export interface JointReadMeasurement {
  annotationUid: string;
  tool: string;
  length?: number | undefined;
  area?: number | undefined;
  mean?: number | undefined;
  stdDev?: number | undefined;
  unit?: string | undefined;
}

declare global {
  interface Window {
    telemedQa?: TelemedQa;
    telemedQaSettings?: TelemedQaSettings;
  }
}
