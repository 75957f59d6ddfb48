import { connectivityPaths, type ConnectivityPath } from '@telemed/contract';
import { openSignalingSocket, type SignalingSocket } from '#lib/conference/signaling-socket.ts';
import { runConnectivityProbe, type ProbeOutcome, type ProbeResult } from './connectivity-probe.ts';

/**
 * The pre-call check's network test: every path probed at once over one signaling connection,
 * opened for the run and closed after it (which also closes anything left on the SFU). Its
 * `$state` drives the page. Browser-only: the page imports it dynamically.
 */

export type PathState = ProbeResult | 'testing';

export class ConnectivityCheck {
  running = $state(false);
  /** Each path's outcome once known. */
  outcomes = $state<Partial<Record<ConnectivityPath, ProbeOutcome>>>({});
  /** false when signaling could not be reached (so nothing could be tested). */
  signalingReachable = $state<boolean | null>(null);

  private readonly signalingUrl: string;
  private socket: SignalingSocket | null = null;
  private disposed = false;

  constructor(signalingUrl: string) {
    this.signalingUrl = signalingUrl;
  }

  state(path: ConnectivityPath): PathState {
    return this.outcomes[path]?.result ?? (this.signalingReachable === false ? 'error' : 'testing');
  }

  async run(): Promise<void> {
    if (this.running || this.disposed) return;
    this.running = true;
    this.outcomes = {};
    try {
      const socket = await openSignalingSocket(this.signalingUrl).catch((error: unknown) => {
        console.error('signaling unreachable for the connectivity check', error);
        return null;
      });
      this.signalingReachable = socket !== null;
      if (!socket) return;
      if (this.disposed) return void socket.disconnect();
      this.socket = socket;
      try {
        await Promise.all(
          connectivityPaths.map(async (path) => {
            const outcome = await runConnectivityProbe(socket, path);
            if (!this.disposed) this.outcomes = { ...this.outcomes, [path]: outcome };
          }),
        );
      } finally {
        socket.disconnect();
        this.socket = null;
      }
    } finally {
      this.running = false;
    }
  }

  /** The page is closing: the socket goes, and with it every probe still open on the SFU. */
  dispose(): void {
    this.disposed = true;
    this.socket?.disconnect();
  }
}
