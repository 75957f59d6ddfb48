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
}

declare global {
  interface Window {
    telemedQa?: TelemedQa;
  }
}
