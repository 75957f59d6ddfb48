/* eslint-disable svelte/prefer-svelte-reactivity -- the Maps are transport bookkeeping, deliberately not reactive; the UI reads only the $state fields. */
import { Device, type types } from 'mediasoup-client';
import {
  ContractError,
  type ConferenceRequest,
  type ConferenceRequestName,
  type ConferenceResponses,
  type LobbyGuest,
  type MediaByteCounts,
  type MediaSource,
  type Participant,
  type ProducerInfo,
  type SessionEndReason,
  type TransportOptions,
} from '@telemed/contract';
import type { MessageKey } from '#lib/i18n.ts';
import { JointReadSession } from '#lib/joint-read/joint-read-session.svelte.ts';
import { RoomChat } from './room-chat.svelte.ts';
import { RoomFloor } from './room-floor.svelte.ts';
import { RoomRecording } from './room-recording.svelte.ts';
import { openSignalingSocket, sendRequest, type SignalingSocket } from './signaling-socket.ts';

/**
 * The browser side of one participant in a session: signaling socket, mediasoup Device, one
 * send and one receive transport, the local microphone and camera producers and a consumer for
 * every remote producer. Its `$state` fields drive the room page. Observers only receive. The
 * host also sees the waiting room and admits or rejects guests. The chat, floor control and the
 * recording state run on the same socket (RoomChat, RoomFloor, RoomRecording). Browser-only:
 * the room page imports it dynamically, never during SSR.
 */

export type ConferenceState = 'idle' | 'joining' | 'joined' | 'left' | 'failed';

export interface RemoteParticipant {
  participant: Participant;
  videoTrack: MediaStreamTrack | null;
  audioTrack: MediaStreamTrack | null;
  micMuted: boolean;
  cameraOff: boolean;
}

const CONNECT_TIMEOUT_MS = 15_000;

/** Three simulcast layers (quarter, half, full resolution) so each receiver gets what fits its link. */
const CAMERA_SIMULCAST: types.RtpEncodingParameters[] = [
  { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000, scalabilityMode: 'L1T3' },
  { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000, scalabilityMode: 'L1T3' },
  { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_200_000, scalabilityMode: 'L1T3' },
];

const CAMERA_CONSTRAINTS: MediaTrackConstraints = {
  width: { ideal: 1280 },
  height: { ideal: 720 },
  frameRate: { ideal: 30 },
};
const MICROPHONE_CONSTRAINTS: MediaTrackConstraints = {
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
};

export class ConferenceRoom {
  state = $state<ConferenceState>('idle');
  error = $state<MessageKey | null>(null);
  self = $state<Participant | null>(null);
  remotes = $state<RemoteParticipant[]>([]);
  activeSpeakerId = $state<string | null>(null);
  localStream = $state<MediaStream | null>(null);
  micMuted = $state(false);
  cameraOff = $state(false);
  /** Why signaling ended the call (the session ended, was cancelled, access revoked…), if it did. */
  endedReason = $state<SessionEndReason | null>(null);
  /** Whether this account admits waiting guests (the host), as signaling says on joining. */
  mayAdmit = $state(false);
  /** Guests waiting to be let in (host only). */
  waitingGuests = $state<LobbyGuest[]>([]);
  /** The last admit or reject did not work. */
  lobbyError = $state(false);
  /** The joint read of this call (set once the socket is open). */
  jointRead = $state.raw<JointReadSession | null>(null);
  /** Counts the cases attached during the call (the page reloads its case list on each). */
  casesAttached = $state(0);
  /** The session's chat, raised hands and recording state (set once the socket is open). */
  chat = $state.raw<RoomChat | null>(null);
  floor = $state.raw<RoomFloor | null>(null);
  recording = $state.raw<RoomRecording | null>(null);

  private readonly sessionId: string;
  private readonly signalingUrl: string;
  /** Observers join without camera and microphone. */
  private readonly mayProduceMedia: boolean;
  /** The session's recording flag as the page loaded it (until signaling says). */
  private readonly recordingAllowed: boolean;
  private socket: SignalingSocket | null = null;
  private device: Device | null = null;
  private sendTransport: types.Transport | null = null;
  private recvTransport: types.Transport | null = null;
  private readonly producers = new Map<MediaSource, types.Producer>();
  /** Consumers by consumer id, with the participant they belong to. */
  private readonly consumers = new Map<string, { consumer: types.Consumer; participantId: string }>();
  /** Remote producers known from signaling, by producer id. */
  private readonly remoteProducers = new Map<string, ProducerInfo>();
  /** Events that arrive while joining are applied once the transports exist. */
  private pending: (() => Promise<void>)[] | null = [];
  private leaving = false;

  constructor(options: {
    sessionId: string;
    signalingUrl: string;
    mayProduceMedia: boolean;
    recordingAllowed: boolean;
  }) {
    this.sessionId = options.sessionId;
    this.signalingUrl = options.signalingUrl;
    this.mayProduceMedia = options.mayProduceMedia;
    this.recordingAllowed = options.recordingAllowed;
  }

  async join(): Promise<void> {
    if (this.state === 'joining' || this.state === 'joined') return;
    this.state = 'joining';
    this.error = null;
    this.endedReason = null;
    this.leaving = false;
    this.micMuted = false;
    this.cameraOff = false;
    this.pending = [];
    try {
      this.localStream = this.mayProduceMedia ? await openLocalMedia() : null;
    } catch {
      return this.fail('errorDevices');
    }
    try {
      await this.connectSocket();
      const { routerRtpCapabilities } = await this.request('session:capabilities', { sessionId: this.sessionId });
      this.device = await Device.factory();
      // Shapes match the contract's schemas; mediasoup-client checks the content.
      await this.device.load({ routerRtpCapabilities: routerRtpCapabilities as types.RtpCapabilities });
      const joined = await this.request('session:join', {
        sessionId: this.sessionId,
        rtpCapabilities: this.device.rtpCapabilities,
      });
      this.self = joined.self;
      this.activeSpeakerId = joined.activeSpeakerId;
      this.mayAdmit = joined.mayAdmit;
      if (joined.mayAdmit) void this.refreshWaitingGuests();
      for (const participant of joined.participants) this.addRemote(participant);
      const sending = this.mayProduceMedia && joined.mayProduceMedia;
      [this.sendTransport, this.recvTransport] = await Promise.all([
        sending ? this.createTransport('send') : null,
        this.createTransport('recv'),
      ]);
      // Sending and receiving start together: the first remote frame does not wait for our camera.
      await Promise.all([this.produceLocalMedia(), ...joined.producers.map((producer) => this.consume(producer))]);
      const queued = this.pending ?? [];
      this.pending = null;
      for (const apply of queued) await apply();
      await Promise.all([
        this.mediaFlowing(),
        // Late joiners and reconnects get the joint read's whole state at once, and the chat so far.
        this.jointRead?.start(joined.self.participantId),
        this.chat?.start(),
        this.floor?.start(),
        this.recording?.start(),
      ]);
      if (!this.leaving) this.state = 'joined';
    } catch (error) {
      if (this.leaving) return; // left while still joining: "left" stands
      const forbidden = error instanceof ContractError && error.code === 'forbidden';
      this.fail(forbidden ? 'errorForbidden' : 'errorConnection');
      console.error('joining the session failed', error);
    }
  }

  async leave(): Promise<void> {
    if (this.state !== 'joined' && this.state !== 'joining') return;
    this.leaving = true;
    await this.request('session:leave', {}).catch(() => undefined);
    this.teardown();
    this.state = 'left';
  }

  /** Lets a waiting guest in (host only). */
  async admit(accountId: string): Promise<void> {
    await this.decide('lobby:admit', accountId);
  }

  /** Turns a waiting guest away (host only). */
  async reject(accountId: string): Promise<void> {
    await this.decide('lobby:reject', accountId);
  }

  async toggleMic(): Promise<void> {
    const producer = this.producers.get('microphone');
    if (!producer) return;
    const mute = !this.micMuted;
    if (mute) producer.pause();
    else producer.resume();
    this.micMuted = mute;
    await this.request(mute ? 'producer:pause' : 'producer:resume', { producerId: producer.id });
  }

  /** Stopping the camera releases it (its light goes off); starting it opens it again. */
  async toggleCamera(): Promise<void> {
    const producer = this.producers.get('camera');
    if (!producer) return;
    if (!this.cameraOff) {
      producer.pause();
      producer.track?.stop();
      this.cameraOff = true;
      this.replaceLocalTrack('video', null);
      await this.request('producer:pause', { producerId: producer.id });
      return;
    }
    const stream = await navigator.mediaDevices.getUserMedia({ video: CAMERA_CONSTRAINTS });
    const [track] = stream.getVideoTracks();
    if (!track) return;
    await producer.replaceTrack({ track });
    producer.resume();
    this.cameraOff = false;
    this.replaceLocalTrack('video', track);
    await this.request('producer:resume', { producerId: producer.id });
  }

  /**
   * The host muted our microphone: the media server already paused it; the browser stops
   * sending too and shows it muted. Unmuting stays with this user (`toggleMic`).
   */
  private mutedByHost(): void {
    const producer = this.producers.get('microphone');
    if (!producer || this.micMuted) return;
    producer.pause();
    this.micMuted = true;
  }

  /** Bytes sent and received so far, from the transports' WebRTC statistics. */
  async mediaByteCounts(): Promise<MediaByteCounts> {
    const counts: MediaByteCounts = {
      inboundAudioBytes: 0,
      inboundVideoBytes: 0,
      outboundAudioBytes: 0,
      outboundVideoBytes: 0,
    };
    const reports = await Promise.all([this.recvTransport?.getStats(), this.sendTransport?.getStats()]);
    for (const report of reports) {
      report?.forEach((stat: { type: string; kind?: string; bytesReceived?: number; bytesSent?: number }) => {
        if (stat.type === 'inbound-rtp') {
          if (stat.kind === 'audio') counts.inboundAudioBytes += stat.bytesReceived ?? 0;
          if (stat.kind === 'video') counts.inboundVideoBytes += stat.bytesReceived ?? 0;
        } else if (stat.type === 'outbound-rtp') {
          if (stat.kind === 'audio') counts.outboundAudioBytes += stat.bytesSent ?? 0;
          if (stat.kind === 'video') counts.outboundVideoBytes += stat.bytesSent ?? 0;
        }
      });
    }
    return counts;
  }

  private async connectSocket(): Promise<void> {
    const socket = await openSignalingSocket(this.signalingUrl, (opening) => {
      this.socket = opening;
      this.listen(opening);
      this.jointRead?.dispose();
      const request = <N extends ConferenceRequestName>(name: N, payload: ConferenceRequest<N>) =>
        this.request(name, payload);
      this.jointRead = new JointReadSession(opening, request);
      this.chat = new RoomChat(opening, request);
      this.floor = new RoomFloor(opening, request, () => this.mutedByHost());
      this.recording = new RoomRecording(opening, request, this.recordingAllowed);
    });
    socket.on('disconnect', (reason) => {
      // Our own disconnect (leaving, or giving up after an error) is not a lost connection.
      if (this.leaving || reason === 'io client disconnect') return;
      this.fail('connectionLost');
    });
  }

  private async decide(name: 'lobby:admit' | 'lobby:reject', accountId: string): Promise<void> {
    this.lobbyError = false;
    try {
      this.waitingGuests = (await this.request(name, { sessionId: this.sessionId, accountId })).waiting;
    } catch (error) {
      this.lobbyError = true;
      console.error(`${name} failed`, error);
      await this.refreshWaitingGuests();
    }
  }

  private async refreshWaitingGuests(): Promise<void> {
    try {
      this.waitingGuests = (await this.request('lobby:list', { sessionId: this.sessionId })).waiting;
    } catch (error) {
      console.error('reading the waiting room failed', error);
    }
  }

  private listen(socket: SignalingSocket): void {
    const whenReady = (apply: () => Promise<void> | void) => {
      const run = async () => apply();
      if (this.pending) this.pending.push(run);
      else void run().catch((error: unknown) => console.error('conference event failed', error));
    };
    socket.on('participant:joined', (participant) => this.addRemote(participant));
    socket.on('participant:left', ({ participantId }) => this.removeRemote(participantId));
    socket.on('producer:added', (producer) => whenReady(() => this.consume(producer)));
    socket.on('producer:removed', ({ producerId }) => whenReady(() => this.dropProducer(producerId)));
    socket.on('producer:paused', ({ producerId, paused }) =>
      whenReady(() => {
        const producer = this.remoteProducers.get(producerId);
        if (!producer) return;
        producer.paused = paused;
        this.updateRemote(producer.participantId, (remote) => {
          if (producer.source === 'microphone') remote.micMuted = paused;
          else remote.cameraOff = paused;
        });
      }),
    );
    socket.on('consumer:closed', ({ consumerId }) => whenReady(() => this.closeConsumer(consumerId)));
    socket.on('speaker:active', ({ participantId }) => {
      this.activeSpeakerId = participantId;
    });
    socket.on('lobby:waiting', ({ sessionId, waiting }) => {
      if (sessionId === this.sessionId && this.mayAdmit) this.waitingGuests = waiting;
    });
    socket.on('session:case-attached', ({ sessionId }) => {
      if (sessionId === this.sessionId) this.casesAttached += 1;
    });
    // Signaling removes us right after this; we leave cleanly and say why.
    socket.on('session:ended', ({ sessionId, reason }) => {
      if (sessionId !== this.sessionId) return;
      this.endedReason = reason;
      this.leaving = true;
      this.teardown();
      this.state = 'left';
    });
  }

  private request<N extends ConferenceRequestName>(
    name: N,
    payload: ConferenceRequest<N>,
  ): Promise<ConferenceResponses[N]> {
    return sendRequest(this.socket, name, payload);
  }

  private async createTransport(direction: 'send' | 'recv'): Promise<types.Transport> {
    const device = this.device;
    if (!device) throw new Error('device not loaded');
    const options = await this.request('transport:create', { direction });
    const transportOptions = options as TransportOptions & types.TransportOptions;
    const transport =
      direction === 'send'
        ? device.createSendTransport(transportOptions)
        : device.createRecvTransport(transportOptions);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.request('transport:connect', { transportId: transport.id, dtlsParameters }).then(() => callback(), errback);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        this.request('producer:create', {
          transportId: transport.id,
          kind,
          source: appData.source as MediaSource,
          rtpParameters,
        }).then(({ producerId }) => callback({ id: producerId }), errback);
      });
    }
    transport.on('connectionstatechange', (state) => {
      if (state === 'failed' && !this.leaving) this.fail('connectionLost');
    });
    return transport;
  }

  private async produceLocalMedia(): Promise<void> {
    const transport = this.sendTransport;
    const stream = this.localStream;
    if (!transport || !stream) return;
    const [audio] = stream.getAudioTracks();
    const [video] = stream.getVideoTracks();
    if (audio) {
      this.producers.set(
        'microphone',
        await transport.produce({
          track: audio,
          codecOptions: { opusStereo: false, opusFec: true, opusDtx: true },
          stopTracks: false,
          appData: { source: 'microphone' },
        }),
      );
    }
    if (video) {
      const vp8 = this.device?.rtpCapabilities.codecs?.find((codec) => codec.mimeType.toLowerCase() === 'video/vp8');
      this.producers.set(
        'camera',
        await transport.produce({
          track: video,
          encodings: CAMERA_SIMULCAST,
          codecOptions: { videoGoogleStartBitrate: 1000 },
          ...(vp8 ? { codec: vp8 } : {}),
          stopTracks: false,
          appData: { source: 'camera' },
        }),
      );
    }
    this.cameraOff = !video;
  }

  private async consume(producer: ProducerInfo): Promise<void> {
    const transport = this.recvTransport;
    if (!transport || this.remoteProducers.has(producer.producerId)) return;
    this.remoteProducers.set(producer.producerId, producer);
    let consumer: types.Consumer | undefined;
    try {
      const options = await this.request('consumer:create', { producerId: producer.producerId });
      consumer = await transport.consume({
        id: options.consumerId,
        producerId: options.producerId,
        kind: options.kind,
        rtpParameters: options.rtpParameters as types.RtpParameters,
      });
      const track = consumer.track;
      this.consumers.set(consumer.id, { consumer, participantId: options.participantId });
      this.updateRemote(options.participantId, (remote) => {
        if (options.kind === 'audio') {
          remote.audioTrack = track;
          remote.micMuted = producer.paused;
        } else {
          remote.videoTrack = track;
          remote.cameraOff = producer.paused;
        }
      });
      await this.request('consumer:resume', { consumerId: consumer.id });
    } catch (error) {
      // The other side left (or stopped that media) meanwhile: nothing to receive, not a failure.
      if (!(error instanceof ContractError && error.code === 'not_found')) throw error;
      if (consumer) this.closeConsumer(consumer.id);
      this.remoteProducers.delete(producer.producerId);
    }
  }

  private dropProducer(producerId: string): void {
    this.remoteProducers.delete(producerId);
    for (const [consumerId, { consumer }] of this.consumers) {
      if (consumer.producerId === producerId) this.closeConsumer(consumerId);
    }
  }

  private closeConsumer(consumerId: string): void {
    const entry = this.consumers.get(consumerId);
    if (!entry) return;
    this.consumers.delete(consumerId);
    this.remoteProducers.delete(entry.consumer.producerId);
    entry.consumer.close();
    this.updateRemote(entry.participantId, (remote) => {
      if (remote.audioTrack === entry.consumer.track) remote.audioTrack = null;
      if (remote.videoTrack === entry.consumer.track) remote.videoTrack = null;
    });
  }

  private addRemote(participant: Participant): void {
    if (participant.participantId === this.self?.participantId) return;
    if (this.remotes.some((remote) => remote.participant.participantId === participant.participantId)) return;
    this.remotes.push({ participant, videoTrack: null, audioTrack: null, micMuted: false, cameraOff: false });
  }

  private removeRemote(participantId: string): void {
    for (const [consumerId, entry] of this.consumers) {
      if (entry.participantId === participantId) this.closeConsumer(consumerId);
    }
    this.remotes = this.remotes.filter((remote) => remote.participant.participantId !== participantId);
    if (this.activeSpeakerId === participantId) this.activeSpeakerId = null;
  }

  private updateRemote(participantId: string, change: (remote: RemoteParticipant) => void): void {
    const remote = this.remotes.find((candidate) => candidate.participant.participantId === participantId);
    if (remote) change(remote);
  }

  private replaceLocalTrack(kind: 'audio' | 'video', track: MediaStreamTrack | null): void {
    const current = this.localStream;
    const kept = current ? (kind === 'video' ? current.getAudioTracks() : current.getVideoTracks()) : [];
    this.localStream = new MediaStream(track ? [...kept, track] : kept);
  }

  /** Resolves once the send transport carries media (or, with nothing to send, the receive one). */
  private async mediaFlowing(): Promise<void> {
    const transport = this.producers.size > 0 ? this.sendTransport : this.recvTransport;
    if (!transport || transport.connectionState === 'connected') return;
    if (transport === this.recvTransport && this.consumers.size === 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('media did not start')), CONNECT_TIMEOUT_MS);
      const check = (state: string) => {
        if (state === 'connected') {
          clearTimeout(timer);
          transport.off('connectionstatechange', check);
          resolve();
        }
      };
      transport.on('connectionstatechange', check);
    });
  }

  private teardown(): void {
    this.pending = null;
    this.jointRead?.dispose();
    for (const { consumer } of this.consumers.values()) consumer.close();
    this.consumers.clear();
    this.remoteProducers.clear();
    for (const producer of this.producers.values()) producer.close();
    this.producers.clear();
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.sendTransport = this.recvTransport = null;
    for (const track of this.localStream?.getTracks() ?? []) track.stop();
    this.localStream = null;
    this.remotes = [];
    this.activeSpeakerId = null;
    this.waitingGuests = [];
    this.mayAdmit = false;
    this.socket?.disconnect();
    this.socket = null;
  }

  private fail(error: MessageKey): void {
    this.error = error;
    this.state = 'failed';
    this.teardown();
  }
}

/** Camera and microphone; a site without a working camera joins with voice only. */
async function openLocalMedia(): Promise<MediaStream> {
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: MICROPHONE_CONSTRAINTS, video: CAMERA_CONSTRAINTS });
  } catch {
    return navigator.mediaDevices.getUserMedia({ audio: MICROPHONE_CONSTRAINTS });
  }
}
