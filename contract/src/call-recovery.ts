import { z } from 'zod';
import { mediaIdSchema, type TransportOptions } from './media.ts';
import type { JoinedSession, SessionEndReason } from './conference-events.ts';

/**
 * Recovering a call without anyone clicking, in a block of its own within the Socket.IO contract
 * (merged into `conferenceRequestSchemas` and friends by conference-events.ts).
 *
 * A participant whose socket drops is *suspended*, not gone: its tile, media on the SFU, raised
 * hand and presenter role stay for a grace period (SIGNALING_RESUME_GRACE_MS), and everyone sees
 * it as reconnecting. The browser reconnects and sends `session:resume` with the resume token it
 * got on joining; the new socket takes the participant over. After the grace period the
 * participant leaves with the reason `connection-lost`. A transport whose ICE broke asks for
 * `transport:restart-ice`.
 */

/** A resume token: 32 random bytes, base64url (43 characters). */
export const resumeTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

export const callRecoveryRequestSchemas = {
  /**
   * Take over one's own suspended (or still lingering) participant from a new socket of the same
   * account. Refusals: `not_found` when the participant is no longer in the session (the grace
   * period ran out: join afresh), `forbidden` for a wrong token or another account, `conflict`
   * when another signaling node holds the participant (its media belongs to that node's SFU
   * connection: join afresh) or this socket is in a session already.
   */
  'session:resume': z.strictObject({
    sessionId: z.uuid(),
    participantId: z.uuid(),
    resumeToken: resumeTokenSchema,
  }),
  /** New ICE parameters for one of the participant's own transports (its ICE disconnected). */
  'transport:restart-ice': z.strictObject({ transportId: mediaIdSchema }),
} as const;

/**
 * Why a participant left a session (kept in the audit trail, told to the others): on its own,
 * its socket closed, its connection away longer than the grace period (`connection-lost`), its
 * media server gone, or the session ended for it.
 */
export type ParticipantLeaveReason =
  'left' | 'disconnected' | 'connection-lost' | 'media-server-lost' | SessionEndReason;

export interface ResumedSession extends JoinedSession {
  /** The participant's own producers the SFU still holds (a rebuilt transport lost them). */
  ownProducerIds: string[];
}

export interface CallRecoveryResponses {
  'session:resume': ResumedSession;
  /** New ICE parameters; fresh TURN credentials come from `turn:credentials` (see turn-relay.ts). */
  'transport:restart-ice': { iceParameters: TransportOptions['iceParameters'] };
}

export interface CallRecoveryNotifications {
  /** The participant's connection dropped; it stays for the grace period (tile: reconnecting). */
  'participant:suspended': (event: { participantId: string; graceMs: number }) => void;
  /** The participant is back on a new connection (same tile, same media). */
  'participant:resumed': (event: { participantId: string }) => void;
}
