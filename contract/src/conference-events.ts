import { z } from 'zod';
import type { Ack } from './ack.ts';
import {
  dtlsParametersSchema,
  mediaIdSchema,
  mediaKindSchema,
  mediaSourceSchema,
  rtpCapabilitiesSchema,
  rtpParametersSchema,
  transportDirectionSchema,
  type ConsumerOptions,
  type MediaSource,
  type RtpCapabilities,
  type TransportOptions,
} from './media.ts';

/**
 * The Socket.IO contract between the web client and signaling: event names, payload schemas,
 * response types. Both sides import this module; signaling validates every payload with these
 * schemas before acting on it.
 */

export const sessionIdSchema = z.uuid();

/** One person's presence in a live session, as every other participant sees it. */
export const participantSchema = z.object({
  participantId: z.uuid(),
  accountId: z.string().min(1).max(64),
  displayName: z.string().min(1).max(100),
  siteId: z.string().min(1).max(64),
  siteNameJa: z.string().min(1).max(100),
  siteNameEn: z.string().min(1).max(100),
  /** UTC, ISO 8601. */
  joinedAt: z.iso.datetime(),
});
export type Participant = z.infer<typeof participantSchema>;

export const producerInfoSchema = z.object({
  producerId: mediaIdSchema,
  participantId: z.uuid(),
  kind: mediaKindSchema,
  source: mediaSourceSchema,
  paused: z.boolean(),
});
export type ProducerInfo = z.infer<typeof producerInfoSchema>;

export interface JoinedSession {
  self: Participant;
  /** Everyone else already in the session. */
  participants: Participant[];
  /** Every producer of the others, to consume. */
  producers: ProducerInfo[];
  /** The participant currently speaking, if any. */
  activeSpeakerId: string | null;
}

/** Requests from the browser; each is answered with an `Ack`. */
export const conferenceRequestSchemas = {
  /** The session's media capabilities; needed before joining (to load the mediasoup Device). */
  'session:capabilities': z.strictObject({ sessionId: sessionIdSchema }),
  'session:join': z.strictObject({
    sessionId: sessionIdSchema,
    rtpCapabilities: rtpCapabilitiesSchema,
  }),
  'session:leave': z.strictObject({}),
  'transport:create': z.strictObject({ direction: transportDirectionSchema }),
  'transport:connect': z.strictObject({
    transportId: mediaIdSchema,
    dtlsParameters: dtlsParametersSchema,
  }),
  'producer:create': z.strictObject({
    transportId: mediaIdSchema,
    kind: mediaKindSchema,
    source: mediaSourceSchema,
    rtpParameters: rtpParametersSchema,
  }),
  'producer:pause': z.strictObject({ producerId: mediaIdSchema }),
  'producer:resume': z.strictObject({ producerId: mediaIdSchema }),
  'producer:close': z.strictObject({ producerId: mediaIdSchema }),
  'consumer:create': z.strictObject({ producerId: mediaIdSchema }),
  'consumer:resume': z.strictObject({ consumerId: mediaIdSchema }),
} as const;

export type ConferenceRequestName = keyof typeof conferenceRequestSchemas;
export type ConferenceRequest<N extends ConferenceRequestName> = z.infer<(typeof conferenceRequestSchemas)[N]>;

export interface ConferenceResponses {
  'session:capabilities': { routerRtpCapabilities: RtpCapabilities };
  'session:join': JoinedSession;
  'session:leave': Record<string, never>;
  'transport:create': TransportOptions;
  'transport:connect': Record<string, never>;
  'producer:create': { producerId: string };
  'producer:pause': Record<string, never>;
  'producer:resume': Record<string, never>;
  'producer:close': Record<string, never>;
  'consumer:create': ConsumerOptions & { participantId: string; source: MediaSource };
  'consumer:resume': Record<string, never>;
}

/** Events signaling pushes to the browsers in a session. */
export interface ConferenceNotifications {
  'participant:joined': (participant: Participant) => void;
  'participant:left': (event: { participantId: string }) => void;
  'producer:added': (producer: ProducerInfo) => void;
  'producer:removed': (event: { producerId: string; participantId: string }) => void;
  'producer:paused': (event: { producerId: string; participantId: string; paused: boolean }) => void;
  'consumer:closed': (event: { consumerId: string }) => void;
  'speaker:active': (event: { participantId: string | null }) => void;
}

export type ConferenceClientEvents = {
  [N in ConferenceRequestName]: (
    payload: ConferenceRequest<N>,
    ack: (response: Ack<ConferenceResponses[N]>) => void,
  ) => void;
};

export const conferenceRequestNames = Object.keys(conferenceRequestSchemas) as ConferenceRequestName[];

export function isConferenceRequestName(name: string): name is ConferenceRequestName {
  return Object.hasOwn(conferenceRequestSchemas, name);
}
