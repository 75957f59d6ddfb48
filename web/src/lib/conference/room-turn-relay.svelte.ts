import type { types } from 'mediasoup-client';
import type { ParticipantTransportPaths, TransportDirection, TransportPath } from '@telemed/contract';
import type { SignalingRequest } from './signaling-socket.ts';
import { readTransportPath, turnTlsOnly } from './transport-path.ts';

/** What a call's transports are created with: TURN servers with fresh credentials, and the ICE policy. */
export interface IceOptions {
  iceServers: RTCIceServer[];
  iceTransportPolicy: RTCIceTransportPolicy;
}

/**
 * TURN for the call's transports: short-lived credentials from signaling (asked before the
 * transports are created and again whenever they must reconnect — `refreshIceServers` — since an
 * expired credential opens no new relay), and the path each transport ended up on, read from its
 * statistics and reported to signaling when it changes (the host's media statistics show it; the
 * own tile's quality details too). ICE itself orders the paths: the SFU's host candidates (UDP
 * preferred over TCP) outrank any relayed one, and Chromium ranks its relays UDP, TCP, TLS.
 * QA's `relayOnly: 'turn-tls'` keeps only the `turns:` URLs with the relay policy.
 * Browser-only.
 */
export class RoomTurnRelay {
  paths = $state<ParticipantTransportPaths>({ send: null, recv: null });

  private readonly request: SignalingRequest;
  private readonly relayOnly: 'turn-tls' | undefined;
  /** The paths signaling was told (a report that failed is sent again at the next sample). */
  private readonly reported: ParticipantTransportPaths = { send: null, recv: null };

  constructor(request: SignalingRequest) {
    this.request = request;
    this.relayOnly = typeof window === 'undefined' ? undefined : window.telemedQaSettings?.relayOnly;
  }

  /** ICE servers with fresh credentials (none when the server has no TURN). */
  async iceOptions(): Promise<IceOptions> {
    const { iceServers } = await this.request('turn:credentials', {});
    if (this.relayOnly === 'turn-tls') return { iceServers: turnTlsOnly(iceServers), iceTransportPolicy: 'relay' };
    return { iceServers, iceTransportPolicy: 'all' };
  }

  /**
   * New credentials on the given transports, for an ICE restart or before a rebuild after the
   * old ones may have expired (mediasoup-client applies them to the next ICE gathering).
   */
  async refreshIceServers(transports: readonly (types.Transport | null)[]): Promise<IceOptions> {
    const options = await this.iceOptions();
    await Promise.all(
      transports.map((transport) =>
        transport && !transport.closed ? transport.updateIceServers({ iceServers: options.iceServers }) : null,
      ),
    );
    return options;
  }

  /** Reads each transport's path from its statistics and tells signaling about any change. */
  async sample(reports: Record<TransportDirection, RTCStatsReport | null>): Promise<void> {
    await Promise.all(
      (['send', 'recv'] as const).map(async (direction) => {
        const stats = reports[direction];
        const path: TransportPath | null = stats ? readTransportPath(stats.values()) : null;
        if (!path) return;
        this.paths = { ...this.paths, [direction]: path };
        if (this.reported[direction] === path) return;
        try {
          await this.request('transport:path', { direction, path });
          this.reported[direction] = path;
        } catch (error) {
          console.warn('reporting the transport path failed', error);
        }
      }),
    );
  }

  reset(): void {
    this.paths = { send: null, recv: null };
    this.reported.send = null;
    this.reported.recv = null;
  }
}
