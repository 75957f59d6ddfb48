import type { TransportPath } from '@telemed/contract';
import { carriedPath, type CarriedPath } from '#lib/precall/connectivity-stats.ts';

/**
 * Which path a call's transport reaches the SFU by, read from its WebRTC statistics (the
 * selected candidate pair's local candidate, as the pre-call check reads a probe's): straight
 * over UDP or TCP to the SFU's port, or relayed through TURN, named by how this browser reaches
 * the TURN server (`relayProtocol`). Pure functions over plain statistics objects, tested
 * without a browser.
 */

const relayPaths: Record<string, TransportPath> = { udp: 'turn-udp', tcp: 'turn-tcp', tls: 'turn-tls' };

/** The path of a carried candidate pair; null when none was selected or it is not one we know. */
export function pathOfCarried(carried: CarriedPath | null): TransportPath | null {
  if (!carried) return null;
  if (carried.candidateType === 'relay') return relayPaths[carried.relayProtocol ?? ''] ?? null;
  if (carried.protocol === 'udp' || carried.protocol === 'tcp') return carried.protocol;
  return null;
}

/** The path a transport uses now, from its `getStats()` report's values. */
export function readTransportPath(report: Iterable<unknown>): TransportPath | null {
  return pathOfCarried(carriedPath(report));
}

/** Only the `turns:` URLs of the ICE servers: a relay-only call through TURN over TLS. */
export function turnTlsOnly<S extends { urls: string | string[] }>(servers: readonly S[]): S[] {
  return servers
    .map((server) => ({
      ...server,
      urls: (Array.isArray(server.urls) ? server.urls : [server.urls]).filter((url) => url.startsWith('turns:')),
    }))
    .filter((server) => server.urls.length > 0);
}
