/**
 * A participant's connection quality as a tile shows it: round-trip time, packet loss, bitrate
 * and the simulcast layer, read from the browser's WebRTC statistics (`getStats`) and from the
 * SFU's consumer scores and layers, and summed up in one of three levels. Pure functions over
 * plain statistics objects, so they are tested without a browser.
 */

export type QualityLevel = 'good' | 'fair' | 'poor' | 'unknown';

export interface ConnectionQuality {
  level: QualityLevel;
  /** Between this browser and the media server, in milliseconds. */
  roundTripTimeMs: number | null;
  /** Packets lost in the last interval, in percent. */
  lossPercent: number | null;
  /** What this browser sends (own tile) … */
  sendKbps: number | null;
  /** … or receives of this participant (their tile). */
  receiveKbps: number | null;
  /** The camera layer forwarded to this browser (their tile) or the best one sent (own tile). */
  spatialLayer: number | null;
  temporalLayer: number | null;
  /** Height of the video frames arriving (their tile) or sent at the top layer (own tile). */
  frameHeight: number | null;
  /** The media server's scores (0–10): how well their media reaches us, and reaches the server. */
  score: number | null;
  producerScore: number | null;
}

/** One WebRTC statistics object, as `RTCStatsReport` holds them. */
export interface StatsEntry {
  type: string;
  id?: string;
  timestamp?: number;
  [field: string]: unknown;
}

/** What one RTP direction of a consumer or producer has counted so far. */
export interface RtpReading {
  /** Milliseconds (the statistics' own clock). */
  timestamp: number;
  bytes: number;
  packets: number;
  packetsLost: number;
  frameHeight: number | null;
  roundTripTimeMs: number | null;
}

const numberOf = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

/**
 * Sums a consumer's (`inbound`) or producer's (`outbound`: every simulcast stream) RTP
 * statistics. Round-trip time comes from the selected candidate pair, else from the remote
 * side's reports; lost packets of sent media from those reports too.
 */
export function readRtp(entries: Iterable<StatsEntry>, direction: 'inbound' | 'outbound'): RtpReading | null {
  const all = [...entries];
  const rtp = all.filter((entry) => entry.type === `${direction}-rtp`);
  if (rtp.length === 0) return null;
  const sum = (field: string, list: StatsEntry[] = rtp) =>
    list.reduce((total, entry) => total + (numberOf(entry[field]) ?? 0), 0);
  const heights = rtp.map((entry) => numberOf(entry.frameHeight)).filter((height) => height !== null);
  const remoteReports = all.filter((entry) => entry.type === 'remote-inbound-rtp');
  const pair = all.find(
    (entry) => entry.type === 'candidate-pair' && entry.state === 'succeeded' && entry.nominated !== false,
  );
  const pairRtt = numberOf(pair?.currentRoundTripTime);
  const reportRtts = remoteReports.map((entry) => numberOf(entry.roundTripTime)).filter((rtt) => rtt !== null);
  const rttSeconds = pairRtt ?? (reportRtts.length ? Math.max(...reportRtts) : null);
  return {
    timestamp: Math.max(...rtp.map((entry) => numberOf(entry.timestamp) ?? 0)),
    bytes: sum(direction === 'inbound' ? 'bytesReceived' : 'bytesSent'),
    packets: sum(direction === 'inbound' ? 'packetsReceived' : 'packetsSent'),
    packetsLost: direction === 'inbound' ? sum('packetsLost') : sum('packetsLost', remoteReports),
    frameHeight: heights.length ? Math.max(...heights) : null,
    roundTripTimeMs: rttSeconds === null ? null : Math.round(rttSeconds * 1000),
  };
}

/** Bitrate and loss between two readings of the same stream(s). */
export function rtpRate(
  previous: RtpReading | null,
  current: RtpReading,
): { kbps: number | null; lossPercent: number | null } {
  if (!previous || current.timestamp <= previous.timestamp) return { kbps: null, lossPercent: null };
  const seconds = (current.timestamp - previous.timestamp) / 1000;
  const bytes = Math.max(0, current.bytes - previous.bytes);
  const lost = Math.max(0, current.packetsLost - previous.packetsLost);
  const arrived = Math.max(0, current.packets - previous.packets);
  const expected = lost + arrived;
  return {
    kbps: Math.round((bytes * 8) / seconds / 1000),
    lossPercent: expected > 0 ? Math.round((lost / expected) * 1000) / 10 : null,
  };
}

/**
 * The level a tile shows: poor from 10 % loss, half a second round trip or a score of 3, fair
 * from 3 %, 250 ms or a score of 6 (mediasoup's scores run 0–10), good below; unknown before
 * anything was measured.
 */
export function qualityLevel(measured: {
  roundTripTimeMs: number | null;
  lossPercent: number | null;
  score: number | null;
}): QualityLevel {
  const { roundTripTimeMs: rtt, lossPercent: loss, score } = measured;
  if (rtt === null && loss === null && score === null) return 'unknown';
  if ((loss ?? 0) >= 10 || (rtt ?? 0) >= 500 || (score ?? 10) <= 3) return 'poor';
  if ((loss ?? 0) >= 3 || (rtt ?? 0) >= 250 || (score ?? 10) <= 6) return 'fair';
  return 'good';
}

/** The worse of two optional figures (higher loss, longer round trip). */
export function worst(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
