import { ContractError, type SessionEndReason } from '@telemed/contract';
import { openSignalingSocket, sendRequest, type SignalingSocket } from './signaling-socket.ts';

/**
 * The guest's side of a session's waiting room: knocks through signaling, then waits for the
 * host's decision (pushed to every socket of the account). Its `$state` drives the lobby page.
 * Browser-only: the page imports it dynamically.
 */

export type LobbyStatus =
  | 'connecting'
  | 'waiting'
  | 'admitted'
  | 'rejected'
  | 'withdrawn'
  /** The session is unknown, not live, or the account may not knock (one answer for all). */
  | 'unavailable'
  /** The session ended (or access was revoked) while waiting; see `endedReason`. */
  | 'ended'
  | 'failed';

export class WaitingRoomGuest {
  status = $state<LobbyStatus>('connecting');
  endedReason = $state<SessionEndReason | null>(null);

  private readonly sessionId: string;
  private readonly signalingUrl: string;
  private socket: SignalingSocket | null = null;
  private closed = false;

  constructor(options: { sessionId: string; signalingUrl: string }) {
    this.sessionId = options.sessionId;
    this.signalingUrl = options.signalingUrl;
  }

  /** Asks the host to be let in (connecting first if needed). */
  async knock(): Promise<void> {
    this.status = 'connecting';
    this.endedReason = null;
    try {
      if (!this.socket?.connected) this.socket = await this.connect();
      const { status } = await sendRequest(this.socket, 'lobby:knock', { sessionId: this.sessionId });
      // The decision may have arrived while the answer was on its way.
      if (this.status === 'connecting') this.status = status;
    } catch (error) {
      if (this.closed) return;
      this.status = error instanceof ContractError && error.code === 'forbidden' ? 'unavailable' : 'failed';
      if (this.status === 'failed') console.error('knocking failed', error);
    }
  }

  async withdraw(): Promise<void> {
    if (this.status !== 'waiting') return;
    this.status = 'withdrawn';
    await sendRequest(this.socket, 'lobby:withdraw', { sessionId: this.sessionId }).catch((error: unknown) =>
      console.error('withdrawing failed', error),
    );
  }

  /** Leaves the page: signaling withdraws a knock that is still waiting when the socket closes. */
  close(): void {
    this.closed = true;
    this.socket?.disconnect();
    this.socket = null;
  }

  private connect(): Promise<SignalingSocket> {
    return openSignalingSocket(this.signalingUrl, (socket) => {
      socket.on('lobby:decision', ({ sessionId, decision }) => {
        if (sessionId === this.sessionId && !this.closed) this.status = decision;
      });
      socket.on('session:ended', ({ sessionId, reason }) => {
        if (sessionId !== this.sessionId || this.closed) return;
        this.endedReason = reason;
        this.status = 'ended';
      });
      socket.on('disconnect', () => {
        if (this.closed || this.status === 'admitted' || this.status === 'ended') return;
        if (this.status === 'waiting' || this.status === 'connecting') this.status = 'failed';
      });
    });
  }
}
