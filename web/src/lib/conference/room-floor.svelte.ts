import type { RaisedHand } from '@telemed/contract';
import type { SignalingRequest, SignalingSocket } from './signaling-socket.ts';

/**
 * Floor control in one participant's browser: the raised hands in order (everyone sees them),
 * raising and lowering one's own, and for the host lowering others' hands, muting a microphone
 * and removing a participant. There is deliberately no "unmute someone" here: signaling has no
 * such request. Browser-only.
 */

/** What the host's last action did, for the notice in the panel. */
export interface FloorNotice {
  kind: 'muted' | 'removed' | 'failed';
  name: string;
}

export class RoomFloor {
  /** First raised first. */
  hands = $state<RaisedHand[]>([]);
  /** Whether this participant controls the floor (the host). */
  mayControl = $state(false);
  /** The host muted this participant's microphone (until dismissed). */
  mutedByHost = $state(false);
  notice = $state<FloorNotice | null>(null);

  private readonly request: SignalingRequest;

  /** `onMutedByHost`: the host muted us; the media server already paused our microphone. */
  constructor(socket: SignalingSocket, request: SignalingRequest, onMutedByHost: () => void) {
    this.request = request;
    socket.on('floor:hands', ({ hands }) => (this.hands = hands));
    socket.on('floor:muted', () => {
      this.mutedByHost = true;
      onMutedByHost();
    });
  }

  async start(): Promise<void> {
    try {
      const snapshot = await this.request('floor:state', {});
      this.hands = snapshot.hands;
      this.mayControl = snapshot.mayControl;
    } catch (error) {
      console.warn('the raised hands could not be read', error);
    }
  }

  isRaised(participantId: string): boolean {
    return this.hands.some((hand) => hand.participantId === participantId);
  }

  async setHand(raised: boolean): Promise<void> {
    await this.act(null, async () => {
      this.hands = (await this.request('floor:hand', { raised })).hands;
    });
  }

  async lowerHandOf(participantId: string, name: string): Promise<void> {
    await this.act(name, async () => {
      this.hands = (await this.request('floor:lower-hand', { participantId })).hands;
    });
  }

  async mute(participantId: string, name: string): Promise<void> {
    if (await this.act(name, () => this.request('floor:mute', { participantId }))) {
      this.notice = { kind: 'muted', name };
    }
  }

  async remove(participantId: string, name: string): Promise<void> {
    if (await this.act(name, () => this.request('floor:remove', { participantId }))) {
      this.notice = { kind: 'removed', name };
    }
  }

  dismissMutedByHost(): void {
    this.mutedByHost = false;
  }

  /**
   * Runs a floor request; a refused host action (on `name`) becomes the panel's notice. One's own
   * hand needs no notice: the button shows whether it is up.
   */
  private async act(name: string | null, run: () => Promise<unknown>): Promise<boolean> {
    this.notice = null;
    try {
      await run();
      return true;
    } catch (error) {
      if (name !== null) this.notice = { kind: 'failed', name };
      console.warn('a floor request was refused', error);
      return false;
    }
  }
}
