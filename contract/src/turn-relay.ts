import { z } from 'zod';
import type { IceServer } from './conference-events.ts';
import { transportDirectionSchema } from './media.ts';

/**
 * Reaching the SFU through firewalls, in a block of its own within the Socket.IO contract
 * (merged into `conferenceRequestSchemas` by conference-events.ts): the TURN servers and
 * short-lived credentials a participant's transports use, and the path each transport ended up
 * on, which the browser reports so the host's media statistics show who is relayed.
 */

/**
 * How a transport reaches the SFU, best first: straight over UDP or TCP to the SFU's single
 * port (WebRtcServer), or relayed through TURN over UDP, TCP or TLS.
 */
export const transportPaths = ['udp', 'tcp', 'turn-udp', 'turn-tcp', 'turn-tls'] as const;
export const transportPathSchema = z.enum(transportPaths);
export type TransportPath = z.infer<typeof transportPathSchema>;

export const turnRelayRequestSchemas = {
  /**
   * TURN servers with fresh credentials for this participant's transports (in a session only,
   * else `conflict`); asked before creating transports and again before an ICE restart or a
   * rebuild, since credentials are short-lived. No TURN server configured: an empty list.
   */
  'turn:credentials': z.strictObject({}),
  /** The path a transport of this participant uses now (read from its selected candidate pair). */
  'transport:path': z.strictObject({ direction: transportDirectionSchema, path: transportPathSchema }),
} as const;

export interface TurnCredentialsAnswer {
  iceServers: IceServer[];
  /** When the credentials stop opening new allocations (UTC, ISO 8601); null without TURN. */
  expiresAt: string | null;
}

/** The paths a participant's transports reported (null until one did). */
export interface ParticipantTransportPaths {
  send: TransportPath | null;
  recv: TransportPath | null;
}

export interface TurnRelayResponses {
  'turn:credentials': TurnCredentialsAnswer;
  'transport:path': Record<string, never>;
}
