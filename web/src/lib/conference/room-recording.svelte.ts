import type { RecordingState } from '@telemed/contract';
import type { SignalingRequest, SignalingSocket } from './signaling-socket.ts';

/**
 * The call's recording state as signaling reports it (on joining and on every change), for the
 * room's recording banner. Until signaling answers, the session's flag as the page loaded it.
 * Browser-only.
 */
export class RoomRecording {
  state = $state<RecordingState>({ allowed: false, active: false });

  private readonly request: SignalingRequest;

  constructor(socket: SignalingSocket, request: SignalingRequest, allowed: boolean) {
    this.request = request;
    this.state = { allowed, active: false };
    socket.on('recording:state', (state) => (this.state = state));
  }

  async start(): Promise<void> {
    try {
      this.state = await this.request('recording:state', {});
    } catch (error) {
      console.warn('the recording state could not be read', error);
    }
  }
}
