import { errors, type types } from 'mediasoup';
import type { Logger } from 'pino';
import { ContractError, mediaKindOfSource } from '@telemed/contract';
import type {
  ConsumerMediaStats,
  ConsumerOptions,
  ConsumerQuality,
  DownlinkMeasure,
  DtlsParameters,
  MediaKind,
  MediaSource,
  ParticipantMediaStats,
  ProducerMediaStats,
  RtpCapabilities,
  RtpParameters,
  TransportDirection,
  TransportOptions,
} from '@telemed/contract';
import type { SessionMediaStats } from '@telemed/contract/sfu-rpc';
import { browserTransportOptions } from './browser-transport.ts';
import { consumerPriority } from './forwarding-priority.ts';
import { SenderLayerDemand } from './sender-layer-demand.ts';

/** What a session's media does on its own, reported to the signaling node that owns the participant. */
export interface SessionRouterEvents {
  consumerClosed(ownerId: string, participantId: string, consumerId: string): void;
  producerClosed(ownerId: string, participantId: string, producerId: string): void;
  activeSpeaker(participantId: string | null): void;
  participantClosed(ownerId: string, participantId: string): void;
  /** A consumer's score or forwarded layer changed: the receiver shows it on the tile. */
  consumerQuality(ownerId: string, participantId: string, quality: ConsumerQuality): void;
  /** The highest layer anyone receives of the participant's simulcast producer changed (null: nobody). */
  producerLayersNeeded(ownerId: string, participantId: string, producerId: string, spatialLayer: number | null): void;
}

interface ParticipantMedia {
  participantId: string;
  /** The signaling connection that opened the participant and receives its events. */
  ownerId: string;
  rtpCapabilities: types.RtpCapabilities;
  transports: Map<TransportDirection, types.WebRtcTransport>;
  producers: Map<string, types.Producer>;
  consumers: Map<string, types.Consumer>;
}

export interface SessionRouterOptions {
  sessionId: string;
  router: types.Router;
  webRtcServer: types.WebRtcServer;
  initialOutgoingBitrate: number;
  events: SessionRouterEvents;
  logger: Logger;
}

/** Microphone, camera, a shared screen and its sound. */
const MAX_PRODUCERS_PER_PARTICIPANT = 4;

/**
 * One session's media: its mediasoup Router, the ActiveSpeakerObserver that tells who is
 * speaking, and each participant's transports, producers and consumers. Closing a participant
 * closes everything it had; nothing outlives it.
 */
export class SessionRouter {
  readonly sessionId: string;
  private readonly router: types.Router;
  private readonly options: SessionRouterOptions;
  private readonly participants = new Map<string, ParticipantMedia>();
  /** Every producer of the session, to find the one a consumer asks for. */
  private readonly producers = new Map<string, { producer: types.Producer; participant: ParticipantMedia }>();
  private speakerObserver: types.ActiveSpeakerObserver | null = null;
  private activeSpeakerId: string | null = null;
  /** Whose camera is the presenter's video (the joint read's presenter), as signaling says. */
  private presenterId: string | null = null;
  private readonly layerDemand: SenderLayerDemand;

  constructor(options: SessionRouterOptions) {
    this.sessionId = options.sessionId;
    this.router = options.router;
    this.options = options;
    this.layerDemand = new SenderLayerDemand((producer, spatialLayer) => {
      const owner = this.producers.get(producer.id)?.participant;
      if (owner)
        this.options.events.producerLayersNeeded(owner.ownerId, owner.participantId, producer.id, spatialLayer);
    });
    this.router.observer.on('close', () => this.layerDemand.close());
  }

  async start(): Promise<void> {
    // A router closing under its participants (its worker died) ends their media.
    this.router.observer.on('close', () => {
      for (const participant of this.participants.values()) {
        this.options.events.participantClosed(participant.ownerId, participant.participantId);
      }
      this.participants.clear();
    });
    this.speakerObserver = await this.router.createActiveSpeakerObserver({ interval: 300 });
    this.speakerObserver.on('dominantspeaker', ({ producer }) => {
      const participantId = this.producers.get(producer.id)?.participant.participantId ?? null;
      if (participantId === this.activeSpeakerId) return;
      this.activeSpeakerId = participantId;
      this.options.events.activeSpeaker(participantId);
    });
  }

  get rtpCapabilities(): RtpCapabilities {
    return this.router.rtpCapabilities;
  }

  get closed(): boolean {
    return this.router.closed;
  }

  get participantCount(): number {
    return this.participants.size;
  }

  /** The signaling connections with participants here. */
  owners(): Set<string> {
    return new Set([...this.participants.values()].map((participant) => participant.ownerId));
  }

  open(participantId: string, ownerId: string, rtpCapabilities: RtpCapabilities): void {
    const existing = this.participants.get(participantId);
    if (existing) {
      if (existing.ownerId !== ownerId) throw new ContractError('conflict', 'participant is open elsewhere');
      existing.rtpCapabilities = rtpCapabilities as types.RtpCapabilities;
      return;
    }
    this.participants.set(participantId, {
      participantId,
      ownerId,
      // Shape checked by the contract's schema; mediasoup checks the content when consuming.
      rtpCapabilities: rtpCapabilities as types.RtpCapabilities,
      transports: new Map(),
      producers: new Map(),
      consumers: new Map(),
    });
  }

  /** Closes the participant's transports (and with them its producers and consumers). */
  close(participantId: string): void {
    const participant = this.participants.get(participantId);
    if (!participant) return;
    this.participants.delete(participantId);
    for (const transport of participant.transports.values()) transport.close();
  }

  closeOwner(ownerId: string): void {
    for (const participant of [...this.participants.values()]) {
      if (participant.ownerId === ownerId) this.close(participant.participantId);
    }
  }

  /**
   * A transport for the participant; `maxKbps` (its site's link that way, when known) caps it
   * from the start: on a thin line the SFU's bandwidth estimate never probes above what the line
   * carries (video, retransmissions and probes would otherwise crowd out the voices), and a
   * sender is asked for no more than its uplink carries.
   */
  async createTransport(
    participantId: string,
    ownerId: string,
    direction: TransportDirection,
    maxKbps: number | null = null,
  ): Promise<TransportOptions> {
    const participant = this.participant(participantId, ownerId);
    const maxBitrate = maxKbps === null ? null : maxKbps * 1000;
    // A participant has one transport per direction; asking again replaces it.
    participant.transports.get(direction)?.close();
    const transport = await this.router.createWebRtcTransport({
      webRtcServer: this.options.webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: Math.min(this.options.initialOutgoingBitrate, maxBitrate ?? Infinity),
      appData: { participantId, direction },
    });
    if (maxBitrate !== null) {
      await mediasoupCall(() =>
        direction === 'recv'
          ? transport.setMaxOutgoingBitrate(maxBitrate)
          : transport.setMaxIncomingBitrate(maxBitrate),
      ).catch((error: unknown) => {
        transport.close();
        throw error;
      });
    }
    participant.transports.set(direction, transport);
    const log = this.options.logger.child({ participantId, transportId: transport.id, direction });
    transport.on('icestatechange', (state) => log.debug({ iceState: state }, 'ICE state'));
    transport.on('dtlsstatechange', (state) => {
      log.debug({ dtlsState: state }, 'DTLS state');
      if (state === 'failed' || state === 'closed') {
        log.info({ dtlsState: state }, 'transport closed by DTLS');
        transport.close();
      }
    });
    transport.observer.on('close', () => {
      if (participant.transports.get(direction) === transport) participant.transports.delete(direction);
    });
    return browserTransportOptions(transport);
  }

  async connectTransport(
    participantId: string,
    ownerId: string,
    transportId: string,
    dtlsParameters: DtlsParameters,
  ): Promise<void> {
    const transport = this.transport(this.participant(participantId, ownerId), transportId);
    await mediasoupCall(() => transport.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters }));
  }

  /**
   * New ICE credentials for one of the participant's transports: the browser restarts ICE with
   * them when its path broke (a network change, a long outage) without losing its producers
   * and consumers.
   */
  async restartIce(
    participantId: string,
    ownerId: string,
    transportId: string,
  ): Promise<TransportOptions['iceParameters']> {
    const transport = this.transport(this.participant(participantId, ownerId), transportId);
    return mediasoupCall(() => transport.restartIce());
  }

  /**
   * The participant's downlink as its receive transport measures it: packet loss on that hop
   * from the transport-cc feedback (mediasoup keeps a weighted history of recent feedbacks;
   * retransmissions do not hide it, and other senders' uplinks do not enter it).
   */
  async downlink(participantId: string, ownerId: string): Promise<DownlinkMeasure> {
    const [stats] = await statsOrNothing(this.participant(participantId, ownerId).transports.get('recv'));
    const loss = stats?.rtpPacketLossSent;
    return { lossPercent: typeof loss === 'number' ? Math.round(loss * 1000) / 10 : null };
  }

  async produce(
    participantId: string,
    ownerId: string,
    request: { transportId: string; kind: MediaKind; source: MediaSource; rtpParameters: RtpParameters },
  ): Promise<string> {
    const participant = this.participant(participantId, ownerId);
    const transport = this.transport(participant, request.transportId);
    if (transport.appData.direction !== 'send') throw new ContractError('conflict', 'not a send transport');
    if (mediaKindOfSource[request.source] !== request.kind) {
      throw new ContractError('invalid_payload', `${request.source} media is ${mediaKindOfSource[request.source]}`);
    }
    if (participant.producers.size >= MAX_PRODUCERS_PER_PARTICIPANT) {
      throw new ContractError('conflict', 'too many producers');
    }
    const producer = await mediasoupCall(() =>
      transport.produce({
        kind: request.kind,
        rtpParameters: request.rtpParameters as types.RtpParameters,
        appData: { participantId, source: request.source },
      }),
    );
    participant.producers.set(producer.id, producer);
    this.producers.set(producer.id, { producer, participant });
    producer.observer.on('close', () => {
      participant.producers.delete(producer.id);
      this.producers.delete(producer.id);
    });
    producer.on('transportclose', () => {
      this.options.events.producerClosed(participant.ownerId, participantId, producer.id);
    });
    this.layerDemand.addProducer(producer);
    // Who speaks is decided by microphones only: the sound of a shared screen is nobody's voice.
    if (request.source === 'microphone') {
      await this.speakerObserver?.addProducer({ producerId: producer.id }).catch((error: unknown) => {
        this.options.logger.warn({ err: error, producerId: producer.id }, 'active speaker observer refused producer');
      });
    }
    return producer.id;
  }

  async setProducerPaused(participantId: string, ownerId: string, producerId: string, paused: boolean): Promise<void> {
    const producer = this.ownProducer(this.participant(participantId, ownerId), producerId);
    await mediasoupCall(() => (paused ? producer.pause() : producer.resume()));
  }

  closeProducer(participantId: string, ownerId: string, producerId: string): void {
    this.ownProducer(this.participant(participantId, ownerId), producerId).close();
  }

  async consume(
    participantId: string,
    ownerId: string,
    producerId: string,
  ): Promise<ConsumerOptions & { source: MediaSource }> {
    const participant = this.participant(participantId, ownerId);
    const transport = participant.transports.get('recv');
    if (!transport) throw new ContractError('conflict', 'create a receive transport first');
    const source = this.producers.get(producerId);
    if (!source) throw new ContractError('not_found', 'producer not found');
    if (source.participant === participant) throw new ContractError('conflict', 'cannot consume own producer');
    if (!this.router.canConsume({ producerId, rtpCapabilities: participant.rtpCapabilities })) {
      throw new ContractError('conflict', 'this browser cannot receive that media');
    }
    const consumer = await mediasoupCall(() =>
      transport.consume({
        producerId,
        rtpCapabilities: participant.rtpCapabilities,
        // Resumed by the browser once it is ready to render, so no keyframe is wasted.
        paused: true,
        // Retransmission on NACK for voices too (mediasoup's default is video only): on a lossy
        // island link a resent packet often still arrives in time, Opus FEC covers the rest.
        enableRtx: true,
        appData: { participantId, source: source.producer.appData.source, from: source.participant.participantId },
      }),
    );
    participant.consumers.set(consumer.id, consumer);
    consumer.observer.on('close', () => participant.consumers.delete(consumer.id));
    await mediasoupCall(() => consumer.setPriority(this.priorityOf(consumer)));
    this.layerDemand.addConsumer(consumer);
    consumer.on('producerclose', () => {
      consumer.close();
      this.options.events.consumerClosed(participant.ownerId, participantId, consumer.id);
    });
    const reportQuality = () =>
      this.options.events.consumerQuality(participant.ownerId, participantId, consumerQuality(consumer));
    consumer.on('score', reportQuality);
    consumer.on('layerschange', reportQuality);
    return {
      consumerId: consumer.id,
      producerId,
      kind: consumer.kind,
      rtpParameters: consumer.rtpParameters,
      source: source.producer.appData.source as MediaSource,
    };
  }

  /** Forwarding starts (again) or stops; the receiver decides, e.g. for a tile nobody sees. */
  async setConsumerPaused(participantId: string, ownerId: string, consumerId: string, paused: boolean): Promise<void> {
    const consumer = this.ownConsumer(this.participant(participantId, ownerId), consumerId);
    // On resuming, mediasoup asks the sender for a key frame, so the picture comes back at once.
    await mediasoupCall(() => (paused ? consumer.pause() : consumer.resume()));
    this.layerDemand.review(consumer.producerId);
  }

  /**
   * The layers the receiver wants; mediasoup forwards the best it can up to them. Consumers
   * without layers (audio, or a single-layer stream) accept and ignore it.
   */
  async setConsumerLayers(
    participantId: string,
    ownerId: string,
    consumerId: string,
    layers: { spatialLayer: number; temporalLayer?: number | undefined },
  ): Promise<void> {
    const consumer = this.ownConsumer(this.participant(participantId, ownerId), consumerId);
    if (consumer.kind !== 'video') return;
    await mediasoupCall(() =>
      consumer.setPreferredLayers({
        spatialLayer: layers.spatialLayer,
        ...(layers.temporalLayer === undefined ? {} : { temporalLayer: layers.temporalLayer }),
      }),
    );
    this.layerDemand.review(consumer.producerId);
  }

  /**
   * The joint read's presenter changed (null: nobody presents): their camera's consumers get the
   * presenter's priority, the previous presenter's go back to everyone else's.
   */
  async setPresenter(participantId: string | null): Promise<void> {
    if (participantId === this.presenterId) return;
    const concerned = new Set([this.presenterId, participantId]);
    this.presenterId = participantId;
    const changes = [...this.participants.values()]
      .flatMap((participant) => [...participant.consumers.values()])
      .filter((consumer) => concerned.has(consumer.appData.from as string) && !consumer.closed)
      .map((consumer) => consumer.setPriority(this.priorityOf(consumer)).catch(() => undefined));
    await Promise.all(changes);
  }

  /** The priority of a consumer now (see forwarding-priority.ts). */
  private priorityOf(consumer: types.Consumer): number {
    const from = consumer.appData.from as string;
    return consumerPriority(consumer.kind, consumer.appData.source as MediaSource, from === this.presenterId);
  }

  async stats(options: { detail?: boolean | undefined } = {}): Promise<SessionMediaStats> {
    const dump = await this.router.dump();
    const participants = [...this.participants.values()];
    return {
      sessionId: this.sessionId,
      routerOpen: !this.router.closed,
      participants: this.participants.size,
      transports: dump.transportIds.length,
      producers: dump.mapProducerIdConsumerIds.length,
      consumers: dump.mapConsumerIdProducerId.length,
      pausedConsumers: participants.reduce(
        (count, participant) =>
          count + [...participant.consumers.values()].filter((consumer) => consumer.paused).length,
        0,
      ),
      ...(options.detail ? { participantMedia: await Promise.all(participants.map((one) => this.mediaOf(one))) } : {}),
    };
  }

  closeRouter(): void {
    this.participants.clear();
    this.router.close();
  }

  private participant(participantId: string, ownerId: string): ParticipantMedia {
    const participant = this.participants.get(participantId);
    if (!participant) throw new ContractError('not_found', 'participant not open');
    if (participant.ownerId !== ownerId) throw new ContractError('forbidden', 'participant belongs to another node');
    return participant;
  }

  private transport(participant: ParticipantMedia, transportId: string): types.WebRtcTransport {
    const transport = [...participant.transports.values()].find((candidate) => candidate.id === transportId);
    if (!transport) throw new ContractError('not_found', 'transport not found');
    return transport;
  }

  private ownProducer(participant: ParticipantMedia, producerId: string): types.Producer {
    const producer = participant.producers.get(producerId);
    if (!producer) throw new ContractError('not_found', 'producer not found');
    return producer;
  }

  private ownConsumer(participant: ParticipantMedia, consumerId: string): types.Consumer {
    const consumer = participant.consumers.get(consumerId);
    if (!consumer) throw new ContractError('not_found', 'consumer not found');
    return consumer;
  }

  /** One participant's media with the worker's statistics (what closes meanwhile is left out). */
  private async mediaOf(participant: ParticipantMedia): Promise<ParticipantMediaStats> {
    const transportStats = async (direction: TransportDirection) =>
      (await statsOrNothing(participant.transports.get(direction)))[0];
    const [sendTransport, recvTransport, producers, consumers] = await Promise.all([
      transportStats('send'),
      transportStats('recv'),
      Promise.all([...participant.producers.values()].map((producer) => this.producerMedia(producer))),
      Promise.all([...participant.consumers.values()].map((consumer) => this.consumerMedia(consumer))),
    ]);
    const sent = consumers.flatMap(({ stats }) => stats);
    const received = producers.flatMap(({ stats }) => stats);
    const roundTripTimes = sent.map((stat) => stat.roundTripTime ?? 0).filter((rtt) => rtt > 0);
    return {
      participantId: participant.participantId,
      uplinkBitrate: Math.round(sendTransport?.recvBitrate ?? 0),
      downlinkBitrate: Math.round(recvTransport?.sendBitrate ?? 0),
      roundTripTimeMs: roundTripTimes.length ? Math.round(Math.max(...roundTripTimes)) : null,
      uplinkLossPercent: worstLossPercent(received),
      downlinkLossPercent: worstLossPercent(sent),
      availableDownlinkBitrate: recvTransport?.availableOutgoingBitrate ?? null,
      downlinkCapBitrate: recvTransport?.maxOutgoingBitrate ?? null,
      uplinkCapBitrate: sendTransport?.maxIncomingBitrate ?? null,
      producers: producers.map(({ media }) => media),
      consumers: consumers.map(({ media }) => media),
    };
  }

  private async producerMedia(producer: types.Producer) {
    const stats = (await statsOrNothing(producer)).filter((stat) => stat.type === 'inbound-rtp');
    const scores = producer.score.map((entry) => entry.score);
    const media: ProducerMediaStats = {
      producerId: producer.id,
      kind: producer.kind,
      source: producer.appData.source as MediaSource,
      paused: producer.paused,
      score: scores.length ? Math.max(...scores) : null,
      bitrate: Math.round(stats.reduce((sum, stat) => sum + stat.bitrate, 0)),
      activeLayers: stats.filter((stat) => stat.bitrate > 0).length,
    };
    return { media, stats };
  }

  private async consumerMedia(consumer: types.Consumer) {
    const stats = (await statsOrNothing(consumer)).filter((stat) => stat.type === 'outbound-rtp');
    const quality = consumerQuality(consumer);
    const media: ConsumerMediaStats = {
      consumerId: consumer.id,
      producerId: consumer.producerId,
      producerParticipantId: consumer.appData.from as string,
      kind: consumer.kind,
      source: consumer.appData.source as MediaSource,
      paused: consumer.paused,
      producerPaused: consumer.producerPaused,
      score: quality.score,
      producerScore: quality.producerScore,
      preferredSpatialLayer: consumer.preferredLayers?.spatialLayer ?? null,
      priority: consumer.priority,
      currentSpatialLayer: quality.spatialLayer,
      currentTemporalLayer: quality.temporalLayer,
      bitrate: Math.round(stats.reduce((sum, stat) => sum + stat.bitrate, 0)),
    };
    return { media, stats };
  }
}

function consumerQuality(consumer: types.Consumer): ConsumerQuality {
  return {
    consumerId: consumer.id,
    score: consumer.score.score,
    producerScore: consumer.score.producerScore,
    bestProducerScore: Math.max(0, ...consumer.score.producerScores),
    spatialLayer: consumer.currentLayers?.spatialLayer ?? null,
    temporalLayer: consumer.currentLayers?.temporalLayer ?? null,
  };
}

/** RTCP's fraction lost is in 256ths. */
function worstLossPercent(stats: { fractionLost: number }[]): number | null {
  if (stats.length === 0) return null;
  return Math.round((Math.max(...stats.map((stat) => stat.fractionLost)) / 256) * 1000) / 10;
}

/** The worker's statistics of something that may have closed meanwhile (then none). */
async function statsOrNothing<S>(item: { closed: boolean; getStats(): Promise<S[]> } | undefined): Promise<S[]> {
  if (!item || item.closed) return [];
  try {
    return await item.getStats();
  } catch {
    // Closed while being asked: it is left out of the report.
    return [];
  }
}

/**
 * mediasoup rejects bad parameters with TypeError/UnsupportedError (the caller's fault, not
 * ours) and answers NotFoundError when what was named closed meanwhile (someone left while the
 * request was on its way): both become typed error acks instead of internal errors.
 */
export async function mediasoupCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof TypeError || error instanceof errors.UnsupportedError) {
      throw new ContractError('invalid_payload', error.message.slice(0, 200));
    }
    if (error instanceof errors.NotFoundError) throw new ContractError('not_found', 'it closed meanwhile');
    throw error;
  }
}
