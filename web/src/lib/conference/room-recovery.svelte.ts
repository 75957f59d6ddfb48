import type { types } from 'mediasoup-client';
import { iceRestartDelayMs } from './ice-restart-delay.ts';

/**
 * Keeps a call alive through a bad link without anyone clicking (the room wires it in):
 *
 * - The signaling socket drops: Socket.IO reconnects by itself (with a fresh access token each
 *   time); meanwhile a banner says "reconnecting" and the media keep playing — they do not go
 *   through signaling. Once back, the call resumes the participant (`session:resume`); when
 *   signaling no longer has it (the grace period ran out, or another signaling node answered)
 *   the user is told and the call is joined afresh.
 * - A transport's ICE goes `disconnected`: ICE restarts (new credentials from the SFU), again
 *   with a growing pause while it stays disconnected and the socket is there to ask.
 * - A transport `failed`: both transports are rebuilt — closed, created again, the microphone,
 *   camera and any screen share produced again and everything consumed again (after the resume,
 *   when the socket is away too).
 *
 * Browser-only.
 */

/**
 * How taking the participant over on a reconnected socket went: `refused` — signaling no longer
 * has it; `media-lost` — resumed, but the media need a rebuild (the SFU lost our producers, or a
 * rebuild cut short by the drop left the transports missing).
 */
export type ResumeOutcome = 'resumed' | 'media-lost' | 'refused';

/** What the recovery needs of the room: the room owns the socket, transports and tiles. */
export interface RecoverableCall {
  /** Takes our participant over on the reconnected socket. */
  resume(): Promise<ResumeOutcome>;
  /** Drops what is left of the call here and joins it again. */
  rejoin(): Promise<void>;
  /** New ICE parameters from the SFU, given to the transport (with fresh TURN servers, if any). */
  restartIce(transport: types.Transport): Promise<void>;
  /** Closes and recreates both transports, producing and consuming everything again. */
  rebuildTransports(): Promise<void>;
  socketConnected(): boolean;
}

/** How soon a failed transport rebuild is tried again. */
const REBUILD_RETRY_MS = 5_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class RoomRecovery {
  /** The socket to signaling is gone and reconnecting (the banner shows). */
  reconnecting = $state(false);
  /** Signaling no longer had our participant: joining afresh now (`rejoining`) or done (`rejoined`). */
  rejoin = $state<'rejoining' | 'rejoined' | null>(null);
  /** Transports are being rebuilt. */
  repairingMedia = $state(false);
  /** Names of those removed because their connection stayed away too long (newest last). */
  lostParticipants = $state<string[]>([]);

  private readonly call: RecoverableCall;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping of running restarts; the UI never reads it.
  private readonly restarting = new Set<types.Transport>();
  private rebuilding: Promise<void> | null = null;
  /** A transport failed while the socket was away: rebuilt once the participant is resumed. */
  private rebuildAfterResume = false;
  private disposed = false;

  constructor(call: RecoverableCall) {
    this.call = call;
  }

  /** The socket dropped (not by us): it reconnects by itself. */
  socketLost(): void {
    this.reconnecting = true;
  }

  /** The socket is back: resume the participant, or join afresh when signaling let it go. */
  async socketBack(): Promise<void> {
    try {
      const outcome = await this.call.resume();
      if (outcome === 'refused') {
        this.reconnecting = false;
        this.rebuildAfterResume = false;
        this.rejoin = 'rejoining';
        await this.call.rejoin();
        this.rejoin = 'rejoined';
        return;
      }
      this.reconnecting = false;
      if (outcome === 'media-lost' || this.rebuildAfterResume) {
        this.rebuildAfterResume = false;
        await this.rebuild();
      }
    } catch (error) {
      // The socket went away again mid-way: its next reconnection tries once more.
      console.error('resuming the call failed', error);
    }
  }

  /** A transport's connection state changed. */
  transportState(transport: types.Transport, state: string): void {
    if (this.disposed) return;
    if (state === 'disconnected') void this.restartWhileDisconnected(transport);
    else if (state === 'failed') void this.rebuild();
  }

  /** Someone else's connection stayed away beyond the grace period (signaling removed them). */
  participantLost(name: string): void {
    this.lostParticipants = [...this.lostParticipants.slice(-4), name];
  }

  dismiss(): void {
    this.rejoin = null;
    this.lostParticipants = [];
  }

  /** The call is over (left, ended): nothing more to recover. */
  dispose(): void {
    this.disposed = true;
    this.reconnecting = false;
    this.repairingMedia = false;
    this.rebuildAfterResume = false;
  }

  /** Rebuilds the media transports now (the QA hook's way to prove a rebuild keeps the call). */
  rebuildMedia(): Promise<void> {
    return this.rebuild();
  }

  /** The call starts (again): recovery watches it. */
  start(): void {
    this.disposed = false;
  }

  private async restartWhileDisconnected(transport: types.Transport): Promise<void> {
    if (this.restarting.has(transport)) return;
    this.restarting.add(transport);
    try {
      for (let attempt = 0; ; attempt++) {
        await sleep(iceRestartDelayMs(attempt));
        // Connected again by itself, failed (a rebuild takes over), or closed: done here.
        if (this.disposed || transport.closed || transport.connectionState !== 'disconnected') return;
        if (!this.call.socketConnected()) continue;
        await this.call
          .restartIce(transport)
          .catch((error: unknown) => console.warn('restarting ICE failed; trying again', error));
      }
    } finally {
      this.restarting.delete(transport);
    }
  }

  private async rebuild(): Promise<void> {
    if (this.disposed) return;
    if (!this.call.socketConnected()) {
      this.rebuildAfterResume = true;
      return;
    }
    if (this.rebuilding) return this.rebuilding;
    this.repairingMedia = true;
    this.rebuilding = this.call
      .rebuildTransports()
      .catch((error: unknown) => {
        // A call left without media is not left so: again shortly, or, when the socket dropped
        // mid-way (expected on a link that fails), right after the resume.
        if (this.call.socketConnected()) {
          console.error('rebuilding the media transports failed; trying again', error);
          if (!this.disposed) setTimeout(() => void this.rebuild(), REBUILD_RETRY_MS);
        } else {
          console.warn('rebuilding the media transports was cut short by the socket dropping', error);
          if (!this.disposed) this.rebuildAfterResume = true;
        }
      })
      .finally(() => {
        this.rebuilding = null;
        this.repairingMedia = false;
      });
    return this.rebuilding;
  }
}
