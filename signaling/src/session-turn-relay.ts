import type { ConferenceResponses, conferenceRequestSchemas } from '@telemed/contract';
import type { RequestHandlers } from '@telemed/contract/server';
import { requireSeat, type SessionSeat } from './conference-participant.ts';
import { recordForSocket } from './socket-audit.ts';
import { turnIceServers } from './turn-credentials.ts';
import { SeatedConnectionPart } from './connection-part.ts';

/**
 * TURN for one connection in a session: fresh short-lived credentials for its transports (only
 * to a socket joined in the session, each issue audited with the TURN username and expiry but
 * never the credential), and the path its transports ended up on, as its browser reports it
 * (kept for the host's media statistics and logged: who is relayed tells IT which hospital's
 * firewall blocks UDP).
 */

export type TurnRelayRequestName = 'turn:credentials' | 'transport:path';
export type TurnRelayHandlers = Pick<
  RequestHandlers<typeof conferenceRequestSchemas, ConferenceResponses>,
  TurnRelayRequestName
>;

export class SessionTurnRelay extends SeatedConnectionPart {
  handlers(): TurnRelayHandlers {
    return {
      'turn:credentials': async () => {
        const { sessionId, participant } = requireSeat(this.seat());
        const { turn } = this.deps;
        if (!turn) return { iceServers: [], expiresAt: null };
        const { iceServers, credentials } = turnIceServers(turn, this.socket.data.account.accountId, { sessionId });
        const expiresAt = new Date(credentials.expiresAt * 1000).toISOString();
        await recordForSocket(this.deps.audit, this.socket, {
          action: 'turn.credentials-issued',
          outcome: 'success',
          target: `session:${sessionId}`,
          sessionId,
          detail: { participantId: participant.participantId, turnUsername: credentials.username, expiresAt },
        });
        this.log.info({ sessionId, turnUsername: credentials.username, expiresAt }, 'TURN credentials issued');
        return { iceServers, expiresAt };
      },
      'transport:path': async ({ direction, path }) => {
        const { sessionId, participant } = requireSeat(this.seat());
        await this.deps.transportPaths.report(sessionId, participant.participantId, direction, path);
        this.log.info({ sessionId, participantId: participant.participantId, direction, path }, 'transport path');
        return {};
      },
    };
  }

  /** The participant left: its paths are no longer shown. */
  async leave(seat: SessionSeat): Promise<void> {
    await this.deps.transportPaths.forget(seat.sessionId, seat.participant.participantId);
  }
}
