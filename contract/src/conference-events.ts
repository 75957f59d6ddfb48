import { z } from 'zod';
import type { Ack } from './ack.ts';
import { grantedStudyUidSchema } from './access-token.ts';
import {
  conferenceMediaRequestSchemas,
  type ConferenceMediaNotifications,
  type ConferenceMediaResponses,
  type LinkLevel,
} from './conference-media.ts';
import {
  callRecoveryRequestSchemas,
  type CallRecoveryNotifications,
  type CallRecoveryResponses,
  type ParticipantLeaveReason,
} from './call-recovery.ts';
import type { Participant } from './participant.ts';
import { chatTextSchema, type ChatHistoryPage, type ChatMessage } from './chat.ts';
import type { FloorSnapshot, RaisedHand } from './floor-control.ts';
import type { RecordingState } from './recording-consent.ts';
import { turnRelayRequestSchemas, type TurnRelayResponses } from './turn-relay.ts';
import { jointReadChangeSchema, type JointReadState, type JointReadUpdate, type SiteReadiness } from './joint-read.ts';
import {
  dtlsParametersSchema,
  mediaIdSchema,
  sctpStreamParametersSchema,
  mediaKindSchema,
  mediaSourceSchema,
  rtpCapabilitiesSchema,
  rtpParametersSchema,
  transportDirectionSchema,
  type ConsumerOptions,
  type DataTransportOptions,
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

export { participantSchema, type Participant } from './participant.ts';

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
  /** Whether this account may send camera and microphone (observers may not). */
  mayProduceMedia: boolean;
  /** Whether this account admits and rejects waiting guests (the host). */
  mayAdmit: boolean;
  /** Everyone else already in the session. */
  participants: Participant[];
  /** Every producer of the others, to consume. */
  producers: ProducerInfo[];
  /** The participant currently speaking, if any. */
  activeSpeakerId: string | null;
  /** Presents to `session:resume` after the socket dropped (see call-recovery.ts). */
  resumeToken: string;
  /** Others whose connection dropped and who may come back (shown as reconnecting). */
  suspendedParticipantIds: string[];
  /** Others whose link has given way (see `link:level`), by participant id; those at `full` are left out. */
  linkLevels: Record<string, LinkLevel>;
}

/** An account waiting in a session's waiting room for the host to let it in. */
export const lobbyGuestSchema = z.object({
  accountId: z.uuid(),
  displayName: z.string().min(1).max(100),
  siteId: z.string().min(1).max(64),
  siteNameJa: z.string().min(1).max(100),
  siteNameEn: z.string().min(1).max(100),
  /** When the guest first knocked (UTC, ISO 8601). */
  requestedAt: z.iso.datetime(),
});
export type LobbyGuest = z.infer<typeof lobbyGuestSchema>;

/** Why signaling ended someone's call (or waiting) in a session. */
export const sessionEndReasons = [
  /** Ended by its scheduled end or by someone ending it. */
  'ended',
  'cancelled',
  /** Moved to another time: the room is closed until then. */
  'rescheduled',
  /** The host's account was deactivated. */
  'host-deactivated',
  /** This account may no longer be in the session (uninvited, or deactivated). */
  'access-revoked',
  /** The host removed this account from the session; only the host can let it back in. */
  'removed',
] as const;
export type SessionEndReason = (typeof sessionEndReasons)[number];

// Connectivity probes of the pre-call check (「接続・機器の確認」).

/**
 * The ways a browser can reach the SFU's media ports: straight over UDP, straight over TCP,
 * or relayed through a TURN server over TLS (port 443, for the strictest hospital firewalls).
 */
export const connectivityPaths = ['udp', 'tcp', 'turn-tls'] as const;
export const connectivityPathSchema = z.enum(connectivityPaths);
export type ConnectivityPath = z.infer<typeof connectivityPathSchema>;

export const probeIdSchema = z.uuid();

/**
 * Can this browser reach the media ports, and how? Each probe is a throwaway WebRtcTransport on
 * a router of its own (no session's) that carries one data channel: it opening proves ICE, DTLS
 * and SCTP through that path. Signed-in sockets only, a few per connection; a probe closes when
 * the browser closes it, when its socket goes away, or when it expires.
 */
export const connectivityProbeRequestSchemas = {
  /** A probe for one path; `available: false` when this server does not offer that path. */
  'probe:open': z.strictObject({ path: connectivityPathSchema }),
  'probe:connect': z.strictObject({ probeId: probeIdSchema, dtlsParameters: dtlsParametersSchema }),
  /** The probe's data channel (what mediasoup-client's `produceData` announces). */
  'probe:produce': z.strictObject({
    probeId: probeIdSchema,
    sctpStreamParameters: sctpStreamParametersSchema,
    label: z.string().max(64),
    protocol: z.string().max(64),
  }),
  /** Done with it; `not_found` when this connection has no such probe (any more). */
  'probe:close': z.strictObject({ probeId: probeIdSchema }),
} as const;

/** A TURN server as RTCPeerConnection takes it (credentials from the TURN REST API). */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export type ConnectivityProbeOpening =
  | { available: false; reason: 'not-configured' }
  | {
      available: true;
      probeId: string;
      /** The probe router's capabilities, to load a mediasoup-client Device. */
      routerRtpCapabilities: RtpCapabilities;
      /** Its ICE candidates name the address and port browsers send media to. */
      transport: DataTransportOptions;
      /** A relayed path's TURN servers (and `relay` policy, so nothing else is tried). */
      iceServers: IceServer[];
      iceTransportPolicy: 'all' | 'relay';
      /** Every media port of the SFU (one per worker; each UDP and TCP), for the firewall's port list. */
      mediaPorts: number[];
      /** The probe is closed after this long whatever happens. */
      expiresInMs: number;
    };

export interface ConnectivityProbeResponses {
  'probe:open': ConnectivityProbeOpening;
  'probe:connect': Record<string, never>;
  'probe:produce': { dataProducerId: string };
  'probe:close': Record<string, never>;
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
  /**
   * Ask the host to be let in. Invited (or already admitted) accounts are `admitted` at once;
   * `forbidden` when the session is unknown or not live (the same answer for both).
   */
  'lobby:knock': z.strictObject({ sessionId: sessionIdSchema }),
  /** Stop waiting. */
  'lobby:withdraw': z.strictObject({ sessionId: sessionIdSchema }),
  /** Host only (else `forbidden`); `not_found` when that account is not waiting. */
  'lobby:admit': z.strictObject({ sessionId: sessionIdSchema, accountId: z.uuid() }),
  /** Host only (else `forbidden`); `not_found` when that account is not waiting. */
  'lobby:reject': z.strictObject({ sessionId: sessionIdSchema, accountId: z.uuid() }),
  /** Host only (else `forbidden`): who is waiting now. */
  'lobby:list': z.strictObject({ sessionId: sessionIdSchema }),
  /** The joint read of the session this socket is in: the full state, e.g. after a gap in updates. */
  'jointRead:state': z.strictObject({}),
  /** Presenter only (else `forbidden`): changes made since the last batch, in order. */
  'jointRead:change': z.strictObject({ changes: z.array(jointReadChangeSchema).min(1).max(50) }),
  /**
   * `request`: present now if nobody does, else ask the host; `release`: stop presenting (or
   * withdraw the request); `take` and `grant` (to a participant): the host only.
   */
  'jointRead:presenter': z.discriminatedUnion('action', [
    z.strictObject({ action: z.enum(['request', 'release', 'take']) }),
    z.strictObject({ action: z.literal('grant'), participantId: z.uuid() }),
  ]),
  /** How much of the shared series this participant's viewer has loaded. */
  'jointRead:progress': z.strictObject({
    seriesInstanceUid: grantedStudyUidSchema,
    loadedImages: z.int().min(0).max(99_999),
    totalImages: z.int().min(0).max(99_999),
  }),
  ...connectivityProbeRequestSchemas,
  // Screen-share policy, consumer pause and layers, the host's media stats: see conference-media.ts.
  ...conferenceMediaRequestSchemas,
  // TURN credentials and the path each transport uses: see turn-relay.ts.
  ...turnRelayRequestSchemas,
  // Resuming after a dropped socket, ICE restarts: see call-recovery.ts.
  ...callRecoveryRequestSchemas,

  // Chat, floor control and the recording guard of the session this socket is in.

  /**
   * A chat message to everyone in the session, optionally pointing to a study of the session's
   * cases (else `not_found`). `rate_limited` beyond CHAT_RATE_LIMIT, `limit_reached` once the
   * session's chat holds CHAT_MAX_MESSAGES_PER_SESSION messages.
   */
  'chat:send': z.strictObject({ text: chatTextSchema, studyInstanceUid: grantedStudyUidSchema.optional() }),
  /** The newest page of the chat, or the page before `beforeSeq`. */
  'chat:history': z.strictObject({ beforeSeq: z.int().min(1).max(1_000_000).optional() }),
  /** Raised hands in order, and whether this participant controls the floor. */
  'floor:state': z.strictObject({}),
  /** Raise or lower one's own hand. */
  'floor:hand': z.strictObject({ raised: z.boolean() }),
  /** Host only (else `forbidden`): lower a participant's hand. */
  'floor:lower-hand': z.strictObject({ participantId: z.uuid() }),
  /**
   * Host only (else `forbidden`): pause a participant's microphone on the media server and tell
   * them. There is no way back from here for the host: only the participant unmutes.
   */
  'floor:mute': z.strictObject({ participantId: z.uuid() }),
  /** Host only (else `forbidden`): end a participant's call; the account needs the host's admission to return. */
  'floor:remove': z.strictObject({ participantId: z.uuid() }),
  /** Whether recording is allowed in this session, and whether it runs. */
  'recording:state': z.strictObject({}),
} as const;

export type ConferenceRequestName = keyof typeof conferenceRequestSchemas;
export type ConferenceRequest<N extends ConferenceRequestName> = z.infer<(typeof conferenceRequestSchemas)[N]>;

export interface ConferenceResponses
  extends ConnectivityProbeResponses, ConferenceMediaResponses, TurnRelayResponses, CallRecoveryResponses {
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
  'lobby:knock': { status: 'admitted' | 'waiting' };
  'lobby:withdraw': Record<string, never>;
  'lobby:admit': { waiting: LobbyGuest[] };
  'lobby:reject': { waiting: LobbyGuest[] };
  'lobby:list': { waiting: LobbyGuest[] };
  'jointRead:state': JointReadSnapshot;
  'jointRead:change': { seq: number };
  'jointRead:presenter': JointReadSnapshot;
  'jointRead:progress': Record<string, never>;
  'chat:send': { message: ChatMessage };
  'chat:history': ChatHistoryPage;
  'floor:state': FloorSnapshot;
  'floor:hand': { hands: RaisedHand[] };
  'floor:lower-hand': { hands: RaisedHand[] };
  'floor:mute': Record<string, never>;
  'floor:remove': Record<string, never>;
  'recording:state': RecordingState;
}

/** The joint read as a participant sees it on joining, after a hand-off or a gap. */
export interface JointReadSnapshot {
  state: JointReadState;
  readiness: SiteReadiness[];
  /** Whether this participant may grant and take the presenter role (the host). */
  mayHandOff: boolean;
}

/** Events signaling pushes to the browsers in a session (and to waiting guests and hosts). */
export interface ConferenceNotifications extends ConferenceMediaNotifications, CallRecoveryNotifications {
  'participant:joined': (participant: Participant) => void;
  /** `connection-lost`: its connection stayed away beyond the grace period. */
  'participant:left': (event: { participantId: string; reason?: ParticipantLeaveReason }) => void;
  'producer:added': (producer: ProducerInfo) => void;
  'producer:removed': (event: { producerId: string; participantId: string }) => void;
  'producer:paused': (event: { producerId: string; participantId: string; paused: boolean }) => void;
  'consumer:closed': (event: { consumerId: string }) => void;
  'speaker:active': (event: { participantId: string | null }) => void;
  /** To the host's sockets whenever the session's waiting list changes. */
  'lobby:waiting': (event: { sessionId: string; waiting: LobbyGuest[] }) => void;
  /** To the waiting guest's sockets when the host decided. */
  'lobby:decision': (event: { sessionId: string; decision: 'admitted' | 'rejected' }) => void;
  /**
   * The call (or the wait) in this session is over; signaling removes the participant right
   * after sending it.
   */
  'session:ended': (event: { sessionId: string; reason: SessionEndReason }) => void;
  /** A case was attached to the session (e.g. a study shared from the study browser): list it. */
  'session:case-attached': (event: { sessionId: string }) => void;
  /** The presenter's changes, to every other participant, at most ~20 per second. */
  'jointRead:update': (update: JointReadUpdate) => void;
  /** The whole state, after a hand-off or when the presenter left. */
  'jointRead:state': (state: JointReadState) => void;
  /** Per-site load progress of the shared series changed. */
  'jointRead:readiness': (event: { sites: SiteReadiness[] }) => void;
  /** A chat message from someone else in the session. */
  'chat:message': (message: ChatMessage) => void;
  /** The raised hands changed (first raised first). */
  'floor:hands': (event: { hands: RaisedHand[] }) => void;
  /** To the participant whose microphone the host just muted (the media server already paused it). */
  'floor:muted': (event: { sessionId: string }) => void;
  /** Recording was allowed or forbidden (or, one day, started or stopped). */
  'recording:state': (state: RecordingState) => void;
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
