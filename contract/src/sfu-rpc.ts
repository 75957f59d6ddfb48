import { z } from 'zod';
import type { Ack } from './ack.ts';
import { conferenceRequestSchemas, sessionIdSchema } from './conference-events.ts';
import type { ConsumerQuality, DownlinkMeasure, ParticipantMediaStats } from './conference-media.ts';
import {
  rtpCapabilitiesSchema,
  type ConsumerOptions,
  type DataTransportOptions,
  type MediaSource,
  type RtpCapabilities,
  type TransportOptions,
} from './media.ts';

/**
 * The internal Socket.IO contract between signaling nodes and the SFU. Signaling has already
 * authenticated and authorised the participant; the SFU still checks that every transport,
 * producer and consumer named in a request belongs to the participant named with it.
 */

export const SFU_RPC_PATH = '/sfu-rpc';

/** The transport protocols a probe can be limited to (a TURN relay reaches the SFU over UDP). */
export const probeProtocolSchema = z.enum(['udp', 'tcp']);
export type ProbeProtocol = z.infer<typeof probeProtocolSchema>;

const participantRef = { sessionId: sessionIdSchema, participantId: z.uuid() };

// Browser requests as signaling relays them: the same payload (one schema for both), plus
// whose it is.
const browser = conferenceRequestSchemas;

export const sfuRequestSchemas = {
  'router:capabilities': z.strictObject({ sessionId: sessionIdSchema }),
  'participant:open': z.strictObject({ ...participantRef, rtpCapabilities: rtpCapabilitiesSchema }),
  'participant:close': z.strictObject(participantRef),
  'transport:create': browser['transport:create'].extend({
    ...participantRef,
    /**
     * What the participant's site link carries that way, in kbit/s (its link profile; absent: no
     * cap): the SFU sends it at most that much (`recv`) or asks its sender for at most that (`send`).
     */
    maxKbps: z.int().min(64).max(1_000_000).optional(),
  }),
  'transport:connect': browser['transport:connect'].extend(participantRef),
  'transport:restart-ice': browser['transport:restart-ice'].extend(participantRef),
  'producer:create': browser['producer:create'].extend(participantRef),
  'producer:pause': browser['producer:pause'].extend(participantRef),
  'producer:resume': browser['producer:resume'].extend(participantRef),
  'producer:close': browser['producer:close'].extend(participantRef),
  'consumer:create': browser['consumer:create'].extend(participantRef),
  'consumer:resume': browser['consumer:resume'].extend(participantRef),
  'consumer:pause': browser['consumer:pause'].extend(participantRef),
  'consumer:layers': browser['consumer:layers'].extend(participantRef),
  /** The participant's downlink as measured on its receive transport (see `DownlinkMeasure`). */
  'participant:downlink': z.strictObject(participantRef),
  /**
   * The joint read's presenter (null: nobody presents): their camera's consumers get the
   * presenter's forwarding priority (see the SFU's forwarding-priority.ts).
   */
  'session:presenter': z.strictObject({ sessionId: sessionIdSchema, participantId: z.uuid().nullable() }),
  /** Counts; with `detail`, each participant's media and its statistics too (the host's panel). */
  'session:media': z.strictObject({ sessionId: sessionIdSchema, detail: z.boolean().optional() }),
  // Connectivity probes of the pre-call check: owned by the signaling node that opened them,
  // on a router of their own. Signaling bounds them per browser connection; the SFU bounds
  // them in all and closes each after its lifetime.
  'probe:open': z.strictObject({ protocol: probeProtocolSchema }),
  'probe:connect': browser['probe:connect'],
  'probe:produce': browser['probe:produce'],
  'probe:close': browser['probe:close'],
} as const;

export type SfuRequestName = keyof typeof sfuRequestSchemas;
export type SfuRequest<N extends SfuRequestName> = z.infer<(typeof sfuRequestSchemas)[N]>;

/** What the SFU holds for one session: used by tests, QA and the host's media stats. */
export interface SessionMediaStats {
  sessionId: string;
  /** false when no Router exists for the session (nobody in it). */
  routerOpen: boolean;
  participants: number;
  transports: number;
  producers: number;
  consumers: number;
  /** Consumers their receivers paused (nothing forwarded). */
  pausedConsumers: number;
  /** Only when asked for with `detail`. */
  participantMedia?: ParticipantMediaStats[];
}

export interface SfuResponses {
  'router:capabilities': { rtpCapabilities: RtpCapabilities };
  'participant:open': Record<string, never>;
  'participant:close': Record<string, never>;
  'transport:create': TransportOptions;
  'transport:connect': Record<string, never>;
  'transport:restart-ice': { iceParameters: TransportOptions['iceParameters'] };
  'producer:create': { producerId: string };
  'producer:pause': Record<string, never>;
  'producer:resume': Record<string, never>;
  'producer:close': Record<string, never>;
  'consumer:create': ConsumerOptions & { source: MediaSource };
  'consumer:resume': Record<string, never>;
  'consumer:pause': Record<string, never>;
  'consumer:layers': Record<string, never>;
  'participant:downlink': DownlinkMeasure;
  'session:presenter': Record<string, never>;
  'session:media': SessionMediaStats;
  'probe:open': ProbeTransport;
  'probe:connect': Record<string, never>;
  'probe:produce': { dataProducerId: string };
  'probe:close': Record<string, never>;
}

/** A connectivity probe's transport, limited to one protocol. */
export interface ProbeTransport {
  probeId: string;
  routerRtpCapabilities: RtpCapabilities;
  transport: DataTransportOptions;
  /** Every worker's media port (UDP and TCP alike). */
  mediaPorts: number[];
  /** The SFU closes the probe after this long. */
  expiresInMs: number;
}

export type SfuClientEvents = {
  [N in SfuRequestName]: (payload: SfuRequest<N>, ack: (response: Ack<SfuResponses[N]>) => void) => void;
};

/** Events the SFU pushes to the signaling node that owns the participant concerned. */
export interface SfuNotifications {
  /** A consumer went away on its own (its producer or transport closed). */
  'consumer:closed': (event: { sessionId: string; participantId: string; consumerId: string }) => void;
  /** A producer went away on its own (its transport closed, e.g. DTLS failed). */
  'producer:closed': (event: { sessionId: string; participantId: string; producerId: string }) => void;
  'speaker:active': (event: { sessionId: string; participantId: string | null }) => void;
  /** A consumer's score or forwarded layer changed. */
  'consumer:quality': (event: { sessionId: string; participantId: string } & ConsumerQuality) => void;
  /** The highest layer anyone receives of the participant's simulcast producer changed (null: nobody). */
  'producer:layers-needed': (event: {
    sessionId: string;
    participantId: string;
    producerId: string;
    spatialLayer: number | null;
  }) => void;
  /** The participant's media is gone (its router or mediasoup worker closed). */
  'participant:closed': (event: { sessionId: string; participantId: string }) => void;
}

export function isSfuRequestName(name: string): name is SfuRequestName {
  return Object.hasOwn(sfuRequestSchemas, name);
}

export const sfuRpcAuthSchema = z.strictObject({ secret: z.string().min(1) });
