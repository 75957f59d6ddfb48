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
  }
}
