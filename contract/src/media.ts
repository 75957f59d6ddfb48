import { z } from 'zod';

/**
 * Structural schemas for the WebRTC/ORTC objects that browsers and the SFU exchange through
 * signaling. They bound sizes and check shapes at the boundary; mediasoup itself then checks
 * the semantics (codec matching, payload types) and rejects what it cannot use, which the
 * services turn into an error ack. Unknown keys are kept (loose objects) because
 * mediasoup-client and mediasoup add optional fields between minor versions.
 */

const shortText = z.string().max(256);
const id = z.string().min(1).max(64);
const parameters = z
  .record(z.string().max(64), z.unknown())
  .refine(
    (values) => Object.values(values).every((value) => ['string', 'number', 'boolean'].includes(typeof value)),
    'codec parameter values must be strings, numbers or booleans',
  );
const rtcpFeedback = z.array(z.looseObject({ type: shortText, parameter: shortText.optional() })).max(32);

export const mediaKindSchema = z.enum(['audio', 'video']);
export type MediaKind = z.infer<typeof mediaKindSchema>;

export const rtpCodecCapabilitySchema = z.looseObject({
  kind: mediaKindSchema,
  mimeType: shortText,
  preferredPayloadType: z.number().int().min(0).max(127).optional(),
  clockRate: z.number().int().positive(),
  channels: z.number().int().positive().optional(),
  parameters: parameters.optional(),
  rtcpFeedback: rtcpFeedback.optional(),
});

export const rtpCapabilitiesSchema = z.looseObject({
  codecs: z.array(rtpCodecCapabilitySchema).max(64).optional(),
  headerExtensions: z
    .array(
      z.looseObject({
        kind: mediaKindSchema,
        uri: shortText,
        preferredId: z.number().int().min(1).max(255),
        preferredEncrypt: z.boolean().optional(),
        direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional(),
      }),
    )
    .max(64)
    .optional(),
});
export type RtpCapabilities = z.infer<typeof rtpCapabilitiesSchema>;

export const rtpParametersSchema = z.looseObject({
  mid: z.string().max(32).optional(),
  codecs: z
    .array(
      z.looseObject({
        mimeType: shortText,
        payloadType: z.number().int().min(0).max(127),
        clockRate: z.number().int().positive(),
        channels: z.number().int().positive().optional(),
        parameters: parameters.optional(),
        rtcpFeedback: rtcpFeedback.optional(),
      }),
    )
    .min(1)
    .max(16),
  headerExtensions: z
    .array(
      z.looseObject({
        uri: shortText,
        id: z.number().int().min(1).max(255),
        encrypt: z.boolean().optional(),
        parameters: parameters.optional(),
      }),
    )
    .max(32)
    .optional(),
  encodings: z
    .array(
      z.looseObject({
        ssrc: z.number().int().nonnegative().optional(),
        rid: z.string().max(32).optional(),
        codecPayloadType: z.number().int().min(0).max(127).optional(),
        rtx: z.looseObject({ ssrc: z.number().int().nonnegative() }).optional(),
        dtx: z.boolean().optional(),
        scalabilityMode: z.string().max(16).optional(),
        maxBitrate: z.number().positive().optional(),
        scaleResolutionDownBy: z.number().positive().optional(),
      }),
    )
    .max(8)
    .optional(),
  rtcp: z
    .looseObject({
      cname: z.string().max(128).optional(),
      reducedSize: z.boolean().optional(),
    })
    .optional(),
  msid: z.string().max(256).optional(),
});
export type RtpParameters = z.infer<typeof rtpParametersSchema>;

export const dtlsParametersSchema = z.looseObject({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z
    .array(z.looseObject({ algorithm: z.string().max(32), value: z.string().max(256) }))
    .min(1)
    .max(8),
});
export type DtlsParameters = z.infer<typeof dtlsParametersSchema>;

/** What a browser needs to create its side of a WebRtcTransport. */
export interface TransportOptions {
  id: string;
  iceParameters: { usernameFragment: string; password: string; iceLite?: boolean };
  iceCandidates: {
    foundation: string;
    priority: number;
    address: string;
    protocol: 'udp' | 'tcp';
    port: number;
    type: 'host' | 'srflx' | 'prflx' | 'relay';
    tcpType?: 'passive';
  }[];
  dtlsParameters: DtlsParameters;
}

/** What a browser needs to create its side of a consumer. */
export interface ConsumerOptions {
  consumerId: string;
  producerId: string;
  kind: MediaKind;
  rtpParameters: RtpParameters;
}

/**
 * Where a producer's media comes from; tiles use it to place the track. `screen` is a shared
 * screen or window (an ultrasound machine's capture, a document camera, slides), `screen-audio`
 * the sound shared with it.
 */
export const mediaSourceSchema = z.enum(['microphone', 'camera', 'screen', 'screen-audio']);
export type MediaSource = z.infer<typeof mediaSourceSchema>;

/** The kind of media each source carries: a producer's kind must match its source. */
export const mediaKindOfSource: Record<MediaSource, MediaKind> = {
  microphone: 'audio',
  camera: 'video',
  screen: 'video',
  'screen-audio': 'audio',
};

export const transportDirectionSchema = z.enum(['send', 'recv']);
export type TransportDirection = z.infer<typeof transportDirectionSchema>;

export const mediaIdSchema = id;

// Data channels (SCTP), used by the pre-call check's connectivity probes.

/** How the browser's data channel sends (RFC 8831 reliability options). */
export const sctpStreamParametersSchema = z.looseObject({
  streamId: z.number().int().min(0).max(65534),
  ordered: z.boolean().optional(),
  maxPacketLifeTime: z.number().int().nonnegative().optional(),
  maxRetransmits: z.number().int().nonnegative().optional(),
});
export type SctpStreamParameters = z.infer<typeof sctpStreamParametersSchema>;

/** The SCTP side of a WebRtcTransport that carries data channels. */
export interface SctpParameters {
  port: number;
  /** Largest message the SFU sends on a data channel (bytes). */
  maxSendMessageSize: number;
  /** Largest message the SFU accepts on a data channel (bytes). */
  maxReceiveMessageSize: number;
}

/** What a browser needs to create its side of a WebRtcTransport that also carries data channels. */
export interface DataTransportOptions extends TransportOptions {
  sctpParameters: SctpParameters;
}
