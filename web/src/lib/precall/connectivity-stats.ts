/**
 * Which candidate pair a probe's transport used, read from WebRTC statistics (the transport's
 * selected pair, or else the nominated succeeded one): the protocol the browser's side spoke,
 * whether it was relayed, and the round-trip time ICE measured.
 */

export interface CarriedPath {
  /** The browser's side of the pair: `udp` or `tcp`. */
  protocol: string | null;
  /** `host`, `srflx`, `prflx` or `relay`. */
  candidateType: string | null;
  /** For a relayed pair: how the browser reached the TURN server (`udp`, `tcp`, `tls`). */
  relayProtocol: string | null;
  /** Round-trip time in milliseconds, when ICE has measured one. */
  roundTripMs: number | null;
}

/** The few fields of RTCStats entries used here (the report holds many more). */
interface StatsEntry {
  id: string;
  type: string;
  selectedCandidatePairId?: string;
  localCandidateId?: string;
  nominated?: boolean;
  state?: string;
  currentRoundTripTime?: number;
  totalRoundTripTime?: number;
  responsesReceived?: number;
  protocol?: string;
  candidateType?: string;
  relayProtocol?: string;
}

/** The path that carried the probe, or null when no pair succeeded. */
export function carriedPath(report: Iterable<unknown>): CarriedPath | null {
  const entries = [...report] as StatsEntry[];
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const selectedId = entries.find(
    (entry) => entry.type === 'transport' && entry.selectedCandidatePairId,
  )?.selectedCandidatePairId;
  const pair =
    (selectedId ? byId.get(selectedId) : undefined) ??
    entries.find((entry) => entry.type === 'candidate-pair' && entry.nominated && entry.state === 'succeeded');
  if (!pair) return null;
  const local = pair.localCandidateId ? byId.get(pair.localCandidateId) : undefined;
  const averageRoundTrip =
    pair.totalRoundTripTime !== undefined && pair.responsesReceived
      ? pair.totalRoundTripTime / pair.responsesReceived
      : undefined;
  const roundTrip = pair.currentRoundTripTime ?? averageRoundTrip;
  return {
    protocol: local?.protocol ?? null,
    candidateType: local?.candidateType ?? null,
    relayProtocol: local?.relayProtocol ?? null,
    roundTripMs: roundTrip === undefined ? null : Math.round(roundTrip * 1000),
  };
}
