import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { ContractError, type DtlsParameters, type SctpStreamParameters } from '@telemed/contract';
import type { RequestHandlers } from '@telemed/contract/server';
import type { ProbeProtocol, ProbeTransport, SfuResponses, sfuRequestSchemas } from '@telemed/contract/sfu-rpc';
import { browserTransportOptions } from './browser-transport.ts';
import { routerMediaCodecs } from './media-codecs.ts';
import { mediasoupCall } from './session-router.ts';
import type { MediaWorker, WorkerPool } from './worker-pool.ts';

/**
 * The pre-call check's connectivity probes: a WebRtcTransport through a worker's WebRtcServer
 * (the same single UDP or TCP port a call uses), limited to one protocol, with SCTP so the
 * browser can open a data channel over it. Probes live on one router per worker that no
 * session shares, are bounded in number, and are closed after their lifetime whatever happens,
 * so probing cannot be used to exhaust the SFU.
 */

export interface ConnectivityProbesOptions {
  pool: WorkerPool;
  /** A probe is closed after this long, done or not. */
  lifetimeMs: number;
  /** Probes open at once, for all signaling nodes together. */
  maxOpen: number;
  logger: Logger;
}

interface Probe {
  probeId: string;
  /** The signaling connection that opened it. */
  ownerId: string;
  protocol: ProbeProtocol;
  transport: types.WebRtcTransport;
  dataProducer: types.DataProducer | null;
  expiry: NodeJS.Timeout;
}

export type ProbeRequestName = 'probe:open' | 'probe:connect' | 'probe:produce' | 'probe:close';

export class ConnectivityProbes {
  private readonly options: ConnectivityProbesOptions;
  private readonly probes = new Map<string, Probe>();
  /** Probes being created: they count against `maxOpen` already. */
  private opening = 0;
  private readonly routers = new Map<MediaWorker, Promise<types.Router>>();

  constructor(options: ConnectivityProbesOptions) {
    this.options = options;
  }

  get openCount(): number {
    return this.probes.size;
  }

  async open(ownerId: string, protocol: ProbeProtocol): Promise<ProbeTransport> {
    if (this.probes.size + this.opening >= this.options.maxOpen) {
      throw new ContractError('conflict', 'too many connectivity probes are open; try again shortly');
    }
    this.opening++;
    let transport: types.WebRtcTransport;
    let router: types.Router;
    try {
      const worker = this.options.pool.leastLoaded();
      router = await this.routerOn(worker);
      transport = await router.createWebRtcTransport({
        webRtcServer: worker.webRtcServer,
        enableUdp: protocol === 'udp',
        enableTcp: protocol === 'tcp',
        enableSctp: true,
        appData: { connectivityProbe: true },
      });
    } finally {
      this.opening--;
    }
    const probeId = randomUUID();
    const expiry = setTimeout(() => this.closeProbe(probeId, 'expired'), this.options.lifetimeMs);
    expiry.unref();
    this.probes.set(probeId, { probeId, ownerId, protocol, transport, dataProducer: null, expiry });
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') this.closeProbe(probeId, `dtls-${state}`);
    });
    // Its router or worker closed under it.
    transport.observer.on('close', () => this.forget(probeId));
    return {
      probeId,
      routerRtpCapabilities: router.rtpCapabilities,
      transport: { ...browserTransportOptions(transport), sctpParameters: sctpParametersOf(transport) },
      mediaPorts: this.options.pool.ports().map(({ port }) => port),
      expiresInMs: this.options.lifetimeMs,
    };
  }

  async connect(ownerId: string, probeId: string, dtlsParameters: DtlsParameters): Promise<void> {
    const { transport } = this.probe(ownerId, probeId);
    await mediasoupCall(() => transport.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters }));
  }

  /** The probe's one data channel. */
  async produce(
    ownerId: string,
    probeId: string,
    request: { sctpStreamParameters: SctpStreamParameters; label: string; protocol: string },
  ): Promise<string> {
    const probe = this.probe(ownerId, probeId);
    if (probe.dataProducer) throw new ContractError('conflict', 'the probe has its data channel already');
    const dataProducer = await mediasoupCall(() =>
      probe.transport.produceData({
        sctpStreamParameters: request.sctpStreamParameters as types.SctpStreamParameters,
        label: request.label,
        protocol: request.protocol,
      }),
    );
    probe.dataProducer = dataProducer;
    return dataProducer.id;
  }

  close(ownerId: string, probeId: string): void {
    this.probe(ownerId, probeId);
    this.closeProbe(probeId, 'closed');
  }

  /** The signaling connection went away: so do its probes. */
  closeOwner(ownerId: string): void {
    for (const probe of [...this.probes.values()]) {
      if (probe.ownerId === ownerId) this.closeProbe(probe.probeId, 'owner-gone');
    }
  }

  closeAll(): void {
    for (const probeId of [...this.probes.keys()]) this.closeProbe(probeId, 'shutdown');
    for (const router of this.routers.values()) void router.then((created) => created.close()).catch(() => undefined);
    this.routers.clear();
  }

  private probe(ownerId: string, probeId: string): Probe {
    const probe = this.probes.get(probeId);
    if (!probe) throw new ContractError('not_found', 'no such connectivity probe (it may have expired)');
    if (probe.ownerId !== ownerId) throw new ContractError('forbidden', 'probe belongs to another node');
    return probe;
  }

  /** What the SFU saw, logged for the hospital's IT (which path worked from where), then closed. */
  private closeProbe(probeId: string, reason: string): void {
    const probe = this.probes.get(probeId);
    if (!probe) return;
    this.forget(probeId);
    const { transport } = probe;
    this.options.logger.info(
      {
        probeId,
        reason,
        protocol: probe.protocol,
        iceState: transport.iceState,
        dtlsState: transport.dtlsState,
        sctpState: transport.sctpState,
        remote: transport.iceSelectedTuple
          ? `${transport.iceSelectedTuple.remoteIp}:${transport.iceSelectedTuple.remotePort}`
          : null,
      },
      'connectivity probe closed',
    );
    transport.close();
  }

  private forget(probeId: string): void {
    const probe = this.probes.get(probeId);
    if (!probe) return;
    clearTimeout(probe.expiry);
    this.probes.delete(probeId);
  }

  /** The worker's probe router, created on first use and again after it closed (its worker died). */
  private routerOn(worker: MediaWorker): Promise<types.Router> {
    let router = this.routers.get(worker);
    if (!router) {
      router = worker.worker.createRouter({ mediaCodecs: routerMediaCodecs, appData: { connectivityProbes: true } });
      this.routers.set(worker, router);
      const forget = () => {
        if (this.routers.get(worker) === router) this.routers.delete(worker);
      };
      router.then((created) => created.observer.on('close', forget), forget);
    }
    return router;
  }
}

/** The SCTP parameters mediasoup-client needs (a probe transport always has SCTP). */
function sctpParametersOf(transport: types.WebRtcTransport) {
  const sctp = transport.sctpParameters;
  if (!sctp) throw new Error('probe transport without SCTP');
  return {
    port: sctp.port,
    maxSendMessageSize: sctp.maxSendMessageSize,
    maxReceiveMessageSize: sctp.maxReceiveMessageSize,
  };
}

/** The probe requests of one signaling connection, for the SFU's RPC endpoint. */
export function probeRpcHandlers(
  probes: ConnectivityProbes,
  ownerId: string,
): Pick<RequestHandlers<typeof sfuRequestSchemas, SfuResponses>, ProbeRequestName> {
  return {
    'probe:open': async ({ protocol }) => probes.open(ownerId, protocol),
    'probe:connect': async ({ probeId, dtlsParameters }) => {
      await probes.connect(ownerId, probeId, dtlsParameters);
      return {};
    },
    'probe:produce': async ({ probeId, ...request }) => ({
      dataProducerId: await probes.produce(ownerId, probeId, request),
    }),
    'probe:close': async ({ probeId }) => {
      probes.close(ownerId, probeId);
      return {};
    },
  };
}
