import {
  ContractError,
  type ConferenceResponses,
  type ConnectivityProbeOpening,
  type IceServer,
  type conferenceRequestSchemas,
} from '@telemed/contract';
import type { RequestHandlers } from '@telemed/contract/server';
import { recordForSocket } from './socket-audit.ts';
import { tlsOnly, turnIceServers, type TurnSettings } from './turn-credentials.ts';
import { ConnectionPart } from './connection-part.ts';

/**
 * The pre-call check's connectivity probes of one connection: signaling asks the SFU for a
 * probe transport limited to the path under test and relays the browser's side of it. Any
 * signed-in socket may probe (IT staff check a PC without being in a session), but only a few
 * probes at once and a bounded number per connection; what is left open is closed when the
 * socket goes away (and by the SFU when a probe expires).
 */

export type ProbeRequestName = 'probe:open' | 'probe:connect' | 'probe:produce' | 'probe:close';
export type ProbeHandlers = Pick<
  RequestHandlers<typeof conferenceRequestSchemas, ConferenceResponses>,
  ProbeRequestName
>;

/** UDP, TCP and the relayed path side by side. */
export const MAX_OPEN_PROBES = 3;
/** A few runs of the check per page; opening the page again starts a new connection. */
export const MAX_PROBES_PER_CONNECTION = 12;

const NOT_YOURS = 'no such connectivity probe on this connection (it may have expired)';

export class ConnectivityCheck extends ConnectionPart {
  /** Open probes, each with the timer that forgets it when the SFU lets it expire. */
  private readonly open = new Map<string, NodeJS.Timeout>();
  /** Probes asked of the SFU and not answered yet (they count as open). */
  private pending = 0;
  /** Probes this connection opened so far. */
  private opened = 0;

  handlers(): ProbeHandlers {
    const { sfu } = this.deps;
    return {
      'probe:open': async ({ path }) => {
        // The TURN/TLS probe is a UDP probe (coturn relays to the SFU over UDP) reached only
        // through the `turns:` URLs with the `relay` policy: through TURN over TLS or not at all.
        const { turn } = this.deps;
        if (path === 'turn-tls' && (!turn || tlsOnly([{ urls: turn.urls }]).length === 0)) {
          return { available: false, reason: 'not-configured' };
        }
        if (this.open.size + this.pending >= MAX_OPEN_PROBES) {
          throw new ContractError('conflict', `at most ${MAX_OPEN_PROBES} connectivity probes at once`);
        }
        if (this.opened >= MAX_PROBES_PER_CONNECTION) {
          throw new ContractError('conflict', 'no more connectivity probes on this connection; reload the page');
        }
        this.opened++;
        this.pending++;
        let probe;
        try {
          probe = await sfu.request('probe:open', { protocol: path === 'tcp' ? 'tcp' : 'udp' });
        } finally {
          this.pending--;
        }
        if (this.socket.disconnected) {
          await this.closeOnSfu(probe.probeId);
          throw new ContractError('conflict', 'disconnected while opening the probe');
        }
        const forget = setTimeout(() => this.open.delete(probe.probeId), probe.expiresInMs);
        forget.unref();
        this.open.set(probe.probeId, forget);
        this.log.info({ probeId: probe.probeId, path }, 'connectivity probe opened');
        const relayed = path === 'turn-tls' && turn ? await this.relayedThrough(turn, probe.probeId) : null;
        const opening: ConnectivityProbeOpening = {
          available: true,
          ...probe,
          iceServers: relayed ?? [],
          iceTransportPolicy: relayed ? 'relay' : 'all',
        };
        return opening;
      },
      'probe:connect': async ({ probeId, dtlsParameters }) => {
        this.own(probeId);
        await sfu.request('probe:connect', { probeId, dtlsParameters });
        return {};
      },
      'probe:produce': async (request) => {
        this.own(request.probeId);
        return sfu.request('probe:produce', request);
      },
      'probe:close': async ({ probeId }) => {
        this.own(probeId);
        this.forget(probeId);
        await sfu.request('probe:close', { probeId });
        return {};
      },
    };
  }

  /** TLS-only TURN servers with fresh credentials for a probe (audited, the credential never logged). */
  private async relayedThrough(turn: TurnSettings, probeId: string): Promise<IceServer[]> {
    const { iceServers, credentials } = turnIceServers(turn, this.socket.data.account.accountId, { probe: true });
    const expiresAt = new Date(credentials.expiresAt * 1000).toISOString();
    await recordForSocket(this.deps.audit, this.socket, {
      action: 'turn.credentials-issued',
      outcome: 'success',
      target: `probe:${probeId}`,
      detail: { turnUsername: credentials.username, expiresAt },
    });
    return tlsOnly(iceServers);
  }

  /** The socket went away: its probes are closed on the SFU at once, not left to expire. */
  async closeAll(): Promise<void> {
    const probeIds = [...this.open.keys()];
    for (const probeId of probeIds) this.forget(probeId);
    await Promise.all(probeIds.map((probeId) => this.closeOnSfu(probeId)));
  }

  private own(probeId: string): void {
    if (!this.open.has(probeId)) throw new ContractError('not_found', NOT_YOURS);
  }

  private forget(probeId: string): void {
    clearTimeout(this.open.get(probeId));
    this.open.delete(probeId);
  }

  /** Best effort: a probe that expired meanwhile is gone anyway. */
  private async closeOnSfu(probeId: string): Promise<void> {
    await this.deps.sfu.request('probe:close', { probeId }).catch((error: unknown) => {
      if (!(error instanceof ContractError && error.code === 'not_found')) {
        this.log.warn({ err: error, probeId }, 'could not close a connectivity probe');
      }
    });
  }
}
