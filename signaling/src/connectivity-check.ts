import type { Logger } from 'pino';
import {
  ContractError,
  type ConferenceResponses,
  type ConnectivityProbeOpening,
  type conferenceRequestSchemas,
} from '@telemed/contract';
import type { RequestHandlers } from '@telemed/contract/server';
import type { ConferenceDependencies, ConferenceSocket } from './conference-participant.ts';

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

/** UDP and TCP side by side, and room for the relayed path once TURN exists. */
export const MAX_OPEN_PROBES = 3;
/** A few runs of the check per page; opening the page again starts a new connection. */
export const MAX_PROBES_PER_CONNECTION = 12;

const NOT_YOURS = 'no such connectivity probe on this connection (it may have expired)';

export class ConnectivityCheck {
  private readonly socket: ConferenceSocket;
  private readonly deps: ConferenceDependencies;
  private readonly log: Logger;
  /** Open probes, each with the timer that forgets it when the SFU lets it expire. */
  private readonly open = new Map<string, NodeJS.Timeout>();
  /** Probes asked of the SFU and not answered yet (they count as open). */
  private pending = 0;
  /** Probes this connection opened so far. */
  private opened = 0;

  constructor(socket: ConferenceSocket, deps: ConferenceDependencies, log: Logger) {
    this.socket = socket;
    this.deps = deps;
    this.log = log;
  }

  handlers(): ProbeHandlers {
    const { sfu } = this.deps;
    return {
      'probe:open': async ({ path }) => {
        // No TURN server exists yet (coturn with the TURN REST API is a later step). With one,
        // this mints short-lived TURN credentials and answers a UDP probe with `iceServers`
        // and the `relay` policy, so the browser reaches the SFU through TURN or not at all.
        if (path === 'turn-tls') return { available: false, reason: 'not-configured' };
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
          probe = await sfu.request('probe:open', { protocol: path });
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
        const opening: ConnectivityProbeOpening = {
          available: true,
          ...probe,
          iceServers: [],
          iceTransportPolicy: 'all',
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
