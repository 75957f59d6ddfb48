/* eslint-disable svelte/prefer-svelte-reactivity -- the Maps are transport bookkeeping, deliberately not reactive; the UI reads only the $state fields. */
import { Device, type types } from 'mediasoup-client';
import {
  ContractError,
  type ConferenceRequest,
  type ConferenceRequestName,
  type ConferenceResponses,
  type ConsumerQuality,
  type DownlinkMeasure,
  type LinkLevel,
  type LobbyGuest,
  type MediaByteCounts,
  type MediaSource,
  type Participant,
  type ProducerInfo,
  type ScreenSharePolicy,
  type SessionEndReason,
  type SessionMediaReport,
  type TransportOptions,
} from '@telemed/contract';
import type { MessageKey } from '#lib/i18n.ts';
import { JointReadSession } from '#lib/joint-read/joint-read-session.svelte.ts';
import { openPreferredMedia } from '#lib/precall/device-preferences.ts';
import {
  qualityLevel,
  readRtp,
  rtpRate,
  worst,
  type ConnectionQuality,
  type RtpReading,
  type StatsEntry,
} from './connection-quality.ts';
import { RoomChat } from './room-chat.svelte.ts';
import { RoomFloor } from './room-floor.svelte.ts';
import { LINK_POLICY } from './link-adaptation.ts';
import { RoomLink, type RoomLinkCaps } from './room-link.svelte.ts';
import { RoomRecording } from './room-recording.svelte.ts';
import { RoomTurnRelay, type IceOptions } from './room-turn-relay.svelte.ts';
import { RoomRecovery, type ResumeOutcome } from './room-recovery.svelte.ts';
import { reconcileCall } from './call-reconciliation.ts';
import { openSignalingSocket, sendRequest, type SignalingSocket } from './signaling-socket.ts';
import { spokeNow } from './tile-layout.ts';

/**
 * The browser side of one participant in a session: signaling socket, mediasoup Device, one
 * send and one receive transport, the local microphone and camera producers (and a shared
 * screen, with its sound if chosen) and a consumer for every remote producer. Remote videos are
 * forwarded by the SFU only while a tile shows them, at the simulcast layer the tile's size
 * needs (`showVideos`); each participant's connection quality is sampled from WebRTC statistics
 * and the SFU's scores. Its `$state` fields drive the room page. Observers only receive. The
 * host also sees the waiting room, admits or rejects guests, sets the screen-share policy and
 * reads the session's media stats. The chat, floor control and the recording state run on the
 * same socket (RoomChat, RoomFloor, RoomRecording). Browser-only: the room page imports it
 * dynamically, never during SSR.
 */

export type ConferenceState = 'idle' | 'joining' | 'joined' | 'left' | 'failed';

export interface RemoteParticipant {
  participant: Participant;
  videoTrack: MediaStreamTrack | null;
  audioTrack: MediaStreamTrack | null;
  micMuted: boolean;
  cameraOff: boolean;
  /** The screen they share, and its sound, if any. */
  screenTrack: MediaStreamTrack | null;
  screenAudioTrack: MediaStreamTrack | null;
  /** Whether the SFU forwards their camera to this browser now (their tile shows it). */
  cameraReceiving: boolean;
  quality: ConnectionQuality | null;
  /** Their connection dropped; signaling holds their place while they reconnect. */
  reconnecting: boolean;
}

/** A remote video a tile shows, and the spatial layer its size needs (null: the source's only one). */
export interface VideoDemand {
  participantId: string;
  source: 'camera' | 'screen';
  spatialLayer: number | null;
}

export type ScreenShareProblem = 'screenShareRefused' | 'screenShareFailed';

const CONNECT_TIMEOUT_MS = 15_000;
/** How often tiles' connection quality is sampled. */
const QUALITY_SAMPLE_MS = 3_000;
/** How old the SFU's last measure of the downlink may be and still count (two samples). */
const DOWNLINK_FRESH_MS = 2 * QUALITY_SAMPLE_MS;

/** Three simulcast layers (quarter, half, full resolution) so each receiver gets what fits its link. */
const CAMERA_SIMULCAST: types.RtpEncodingParameters[] = [
  { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000, scalabilityMode: 'L1T3' },
  { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000, scalabilityMode: 'L1T3' },
  { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_200_000, scalabilityMode: 'L1T3' },
];

/**
 * A shared screen: one full-resolution stream whose temporal layers let the SFU drop frames
 * rather than sharpness for a receiver on a thin link (slides and reports must stay legible).
 */
const SCREEN_ENCODINGS: types.RtpEncodingParameters[] = [{ maxBitrate: 1_500_000, scalabilityMode: 'L1T3' }];
const SCREEN_CONSTRAINTS: MediaTrackConstraints = {
  width: { max: 1920 },
  height: { max: 1080 },
  frameRate: { max: 30 },
};

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

/** A consumer with what the tiles asked of it and what was last measured of it. */
interface ConsumerEntry {
  consumer: types.Consumer;
  participantId: string;
  source: MediaSource;
  /** What the SFU was last told: forwarding on or off, and the preferred spatial layer. */
  applied: { receive: boolean; spatialLayer: number | null };
  reading: RtpReading | null;
  rate: { kbps: number | null; lossPercent: number | null };
  /** The SFU's latest scores and forwarded layer. */
  serverQuality: ConsumerQuality | null;
}

const demandKey = (participantId: string, source: MediaSource) => `${source}:${participantId}`;

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
  /** Remote participants by how recently they spoke, latest first (for last-N and speaker view). */
  speakingOrder = $state<string[]>([]);
  /** This browser's own shared screen, while it shares one. */
  screenStream = $state<MediaStream | null>(null);
  screenShareStarting = $state(false);
  screenShareProblem = $state<ScreenShareProblem | null>(null);
  screenSharePolicy = $state<ScreenSharePolicy>({ allowMultiple: false });
  /** This browser's own connection: what it sends, its round trip to the media server. */
  localQuality = $state<ConnectionQuality | null>(null);
  /** The session's chat, raised hands and recording state (set once the socket is open). */
  chat = $state.raw<RoomChat | null>(null);
  floor = $state.raw<RoomFloor | null>(null);
  recording = $state.raw<RoomRecording | null>(null);
  /** TURN credentials for the transports and the path each one takes (set once the socket is open). */
  turnRelay = $state.raw<RoomTurnRelay | null>(null);
  /** Reconnecting, ICE restarts and transport rebuilds (see RoomRecovery). */
  readonly recovery = new RoomRecovery({
    resume: () => this.resumeCall(),
    rejoin: () => this.rejoinCall(),
    restartIce: (transport) => this.restartIce(transport),
    rebuildTransports: () => this.rebuildTransports(),
    socketConnected: () => this.socket?.connected ?? false,
  });
  /** How far this site gives way to its link (banner, tiles held back), and the others' levels. */
  readonly link: RoomLink;

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
  /** Consumers by consumer id. */
  private readonly consumers = new Map<string, ConsumerEntry>();
  /** The remote videos the tiles show, with the spatial layer each needs (see `showVideos`). */
  private shownVideos = new Map<string, number | null>();
  /** Consumers whose demand is being sent to the SFU, and those to send again after that. */
  private readonly syncing = new Set<string>();
  private readonly resync = new Set<string>();
  private localReading: RtpReading | null = null;
  private qualityTimer: ReturnType<typeof setInterval> | null = null;
  /** A slow sample (a busy machine) is not overtaken by the next one. */
  private sampling = false;
  /** The SFU's last measure of this browser's downlink, and whether a new one is on its way. */
  private downlink: { measure: DownlinkMeasure; at: number } | null = null;
  private downlinkAsked = false;
  /**
   * Remote producers known from signaling, by producer id: what the others send, whether or not
   * it is received here right now (a transport rebuild closes every consumer, then consumes all
   * of these again; only signaling saying a producer or its participant is gone forgets one).
   */
  private readonly remoteProducers = new Map<string, ProducerInfo>();
  /** Producers with a consumer on the current receive transport, or one being created. */
  private readonly consumedProducerIds = new Set<string>();
  /** Events that arrive while joining are applied once the transports exist. */
  private pending: (() => Promise<void>)[] | null = [];
  private leaving = false;
  /** Whether this participant sends media (not an observer): the transports a rebuild makes. */
  private sending = false;
  /** Presented to `session:resume` after the socket dropped (signaling answers a new one each time). */
  private resumeToken: string | null = null;
  /** The highest camera layer anyone receives, as the SFU last said (null: nobody; undefined: not yet). */
  private cameraLayersNeeded: number | null | undefined = undefined;
  /** The camera was paused because the link fell to audio only (not by the user). */
  private cameraPausedForLink = false;

  constructor(options: {
    sessionId: string;
    signalingUrl: string;
    mayProduceMedia: boolean;
    recordingAllowed: boolean;
    /** The site's link profile caps (none: unrestricted). */
    linkCaps?: RoomLinkCaps;
  }) {
    this.sessionId = options.sessionId;
    this.signalingUrl = options.signalingUrl;
    this.mayProduceMedia = options.mayProduceMedia;
    this.recordingAllowed = options.recordingAllowed;
    this.link = new RoomLink({
      caps: options.linkCaps ?? { upKbps: null, downKbps: null },
      presenterIds: () =>
        new Set([
          ...(this.jointRead?.presenter ? [this.jointRead.presenter.participantId] : []),
          ...this.remotes.filter((remote) => remote.screenTrack).map((remote) => remote.participant.participantId),
        ]),
      remoteCount: () => this.remotes.length,
      forward: (demands) => this.forwardVideos(demands),
      changed: (level) => void this.linkLevelChanged(level),
    });
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
      this.resumeToken = joined.resumeToken;
      this.recovery.start();
      this.activeSpeakerId = joined.activeSpeakerId;
      this.speakingOrder = spokeNow(
        [],
        joined.activeSpeakerId === joined.self.participantId ? null : joined.activeSpeakerId,
      );
      this.mayAdmit = joined.mayAdmit;
      void this.request('screenShare:policy', {}).then(
        (policy) => (this.screenSharePolicy = policy),
        (error: unknown) => console.error('reading the screen-share policy failed', error),
      );
      if (joined.mayAdmit) void this.refreshWaitingGuests();
      for (const participant of joined.participants) this.addRemote(participant);
      for (const participantId of joined.suspendedParticipantIds) this.markReconnecting(participantId, true);
      this.link.knowRemoteLevels(joined.linkLevels);
      const sending = this.mayProduceMedia && joined.mayProduceMedia;
      this.sending = sending;
      const ice = await this.turnRelay?.iceOptions();
      [this.sendTransport, this.recvTransport] = await Promise.all([
        sending ? this.createTransport('send', ice) : null,
        this.createTransport('recv', ice),
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
      if (!this.leaving) {
        this.state = 'joined';
        this.qualityTimer = setInterval(() => {
          if (this.sampling) return;
          this.sampling = true;
          void this.sampleQuality()
            .catch((error: unknown) => console.error('sampling the connection quality failed', error))
            .finally(() => (this.sampling = false));
        }, QUALITY_SAMPLE_MS);
      }
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
    // Said and gone at once: a page being closed may not live to see the answer, and the socket's
    // own goodbye tells signaling this is a leave, not a dropped link (which would hold the seat).
    const said = this.request('session:leave', {}).catch(() => undefined);
    this.socket?.disconnect();
    await said;
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

  /**
   * Stopping the camera releases it (its light goes off); starting it opens it again. A camera
   * with no producer (off when the transports were rebuilt, or none at the join) is produced
   * anew.
   */
  async toggleCamera(): Promise<void> {
    const producer = this.producers.get('camera');
    if (!this.cameraOff) {
      if (!producer) return;
      producer.pause();
      producer.track?.stop();
      this.cameraOff = true;
      this.replaceLocalTrack('video', null);
      await this.request('producer:pause', { producerId: producer.id });
      return;
    }
    const transport = this.sendTransport;
    if (!producer && !transport) return; // an observer sends no camera
    const stream = await openPreferredMedia({ video: CAMERA_CONSTRAINTS });
    const [track] = stream.getVideoTracks();
    if (!track) return;
    if (producer) {
      await producer.replaceTrack({ track });
      producer.resume();
      await this.request('producer:resume', { producerId: producer.id });
    } else if (transport) {
      await this.produceCamera(transport, track);
    }
    this.cameraOff = false;
    this.replaceLocalTrack('video', track);
  }

  /** Whether this browser may start sharing now: someone else's share blocks it unless the host allows more. */
  get screenShareBlockedBy(): RemoteParticipant | null {
    if (this.screenSharePolicy.allowMultiple) return null;
    return this.remotes.find((remote) => remote.screenTrack !== null) ?? null;
  }

  /**
   * Shares a screen, window or tab the user picks (with its sound when asked and offered). The
   * SFU refuses it while someone else shares, unless the host allows several shares. Ending it
   * from the browser's own "stop sharing" bar ends it here too.
   */
  async startScreenShare(options: { withAudio: boolean }): Promise<void> {
    const transport = this.sendTransport;
    if (!transport || this.screenStream || this.screenShareStarting) return;
    this.screenShareStarting = true;
    this.screenShareProblem = null;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: SCREEN_CONSTRAINTS, audio: options.withAudio });
    } catch (error) {
      this.screenShareStarting = false;
      // The user closed the browser's picker: nothing went wrong.
      if (!(error instanceof DOMException && error.name === 'NotAllowedError')) {
        this.screenShareProblem = 'screenShareFailed';
        console.error('screen capture failed', error);
      }
      return;
    }
    const [video] = stream.getVideoTracks();
    const [audio] = options.withAudio ? stream.getAudioTracks() : [];
    if (!video) {
      this.screenShareStarting = false;
      for (const track of stream.getTracks()) track.stop();
      return;
    }
    this.screenStream = stream;
    video.addEventListener('ended', () => void this.stopScreenShare());
    try {
      await this.produceScreen(transport, video, audio, () => this.screenStream === stream);
    } catch (error) {
      const refused = error instanceof ContractError && error.code === 'conflict';
      this.screenShareProblem = refused ? 'screenShareRefused' : 'screenShareFailed';
      if (!refused) console.error('sharing the screen failed', error);
      await this.stopScreenShare();
    } finally {
      this.screenShareStarting = false;
    }
    // Stopped (by the browser's bar) while the producers were being created.
    if (!this.screenStream) await this.stopScreenShare();
  }

  async stopScreenShare(): Promise<void> {
    const stream = this.screenStream;
    this.screenStream = null;
    for (const source of ['screen-audio', 'screen'] as const) {
      const producer = this.producers.get(source);
      if (!producer) continue;
      this.producers.delete(source);
      producer.close();
      await this.request('producer:close', { producerId: producer.id }).catch((error: unknown) => {
        // Gone already (the call ended, or the SFU closed it): nothing left to stop.
        if (!(error instanceof ContractError)) console.error('stopping the screen share failed', error);
      });
    }
    for (const track of stream?.getTracks() ?? []) track.stop();
  }

  /** The host allows several screen shares at once, or one only. */
  async setScreenSharePolicy(allowMultiple: boolean): Promise<void> {
    this.screenSharePolicy = await this.request('screenShare:setPolicy', { allowMultiple });
  }

  /** The host's view of everyone's media at the SFU. */
  mediaStats(): Promise<SessionMediaReport> {
    return this.request('session:media-stats', {});
  }

  /**
   * The remote videos the tiles show now, with the layer each needs: the SFU forwards these
   * (at most that layer) and pauses every other video consumer of this browser.
   */
  showVideos(demands: readonly VideoDemand[]): void {
    this.link.show(demands);
  }

  /** What the link lets through of the tiles' demand (see RoomLink). */
  private forwardVideos(demands: readonly VideoDemand[]): void {
    this.shownVideos = new Map(
      demands.map((demand) => [demandKey(demand.participantId, demand.source), demand.spatialLayer]),
    );
    for (const [consumerId, entry] of this.consumers) {
      if (entry.consumer.kind === 'video') this.syncConsumer(consumerId);
    }
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
    const socket = await openSignalingSocket(
      this.signalingUrl,
      (opening) => {
        this.socket = opening;
        this.listen(opening);
        this.jointRead?.dispose();
        const request = <N extends ConferenceRequestName>(name: N, payload: ConferenceRequest<N>) =>
          this.request(name, payload);
        this.jointRead = new JointReadSession(opening, request);
        this.chat = new RoomChat(opening, request);
        this.floor = new RoomFloor(opening, request, () => this.mutedByHost());
        this.recording = new RoomRecording(opening, request, this.recordingAllowed);
        this.turnRelay = new RoomTurnRelay(request);
      },
      { reconnect: true },
    );
    socket.on('disconnect', (reason) => {
      // Our own disconnect (leaving, or giving up after an error) is not a lost connection.
      if (this.leaving || reason === 'io client disconnect') return;
      // A call in progress rides it out (the socket reconnects, then resumes); signaling ending
      // the connection, or a drop while still joining, ends the call here.
      if (this.state === 'joined' && reason !== 'io server disconnect') this.recovery.socketLost();
      else this.fail('connectionLost');
    });
    // Every later `connect` is a reconnection: the participant is resumed on it.
    socket.on('connect', () => {
      if (this.socket === socket && this.state === 'joined') void this.recovery.socketBack();
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
    socket.on('participant:left', ({ participantId, reason }) => {
      const remote = this.remotes.find((candidate) => candidate.participant.participantId === participantId);
      if (remote && reason === 'connection-lost') this.recovery.participantLost(remote.participant.displayName);
      this.removeRemote(participantId);
    });
    socket.on('participant:suspended', ({ participantId }) => this.markReconnecting(participantId, true));
    socket.on('participant:resumed', ({ participantId }) => this.markReconnecting(participantId, false));
    socket.on('producer:added', (producer) => whenReady(() => this.consume(producer)));
    socket.on('producer:removed', ({ producerId }) => whenReady(() => this.dropProducer(producerId)));
    socket.on('producer:paused', ({ producerId, paused }) =>
      whenReady(() => {
        const producer = this.remoteProducers.get(producerId);
        if (!producer) return;
        producer.paused = paused;
        this.updateRemote(producer.participantId, (remote) => {
          if (producer.source === 'microphone') remote.micMuted = paused;
          if (producer.source === 'camera') remote.cameraOff = paused;
        });
      }),
    );
    // The SFU closes a consumer when its producer closes: that producer is gone.
    socket.on('consumer:closed', ({ consumerId }) =>
      whenReady(() => {
        const entry = this.consumers.get(consumerId);
        if (entry) this.dropProducer(entry.consumer.producerId);
      }),
    );
    socket.on('speaker:active', ({ participantId }) => {
      this.activeSpeakerId = participantId;
      if (participantId !== this.self?.participantId) this.speakingOrder = spokeNow(this.speakingOrder, participantId);
    });
    socket.on('screenShare:policy', (policy) => {
      this.screenSharePolicy = policy;
    });
    socket.on('producer:layers-needed', ({ producerId, spatialLayer }) => {
      if (this.producers.get('camera')?.id !== producerId) return;
      this.cameraLayersNeeded = spatialLayer;
      void this.capCamera();
    });
    socket.on('participant:link', ({ participantId, level }) => this.link.setRemoteLevel(participantId, level));
    socket.on('consumer:quality', (quality) => {
      const entry = this.consumers.get(quality.consumerId);
      if (entry) entry.serverQuality = quality;
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

  /**
   * Fresh TURN credentials on the transports, for an ICE restart or a rebuild (credentials are
   * short-lived: the ones the transports were created with may have expired). Returns them, to
   * create new transports with.
   */
  async refreshIceServers(): Promise<IceOptions | undefined> {
    return this.turnRelay?.refreshIceServers([this.sendTransport, this.recvTransport]);
  }

  private async createTransport(direction: 'send' | 'recv', ice?: IceOptions): Promise<types.Transport> {
    const device = this.device;
    if (!device) throw new Error('device not loaded');
    const options = await this.request('transport:create', { direction });
    const transportOptions = { ...(options as TransportOptions & types.TransportOptions), ...ice };
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
      if (!this.leaving) this.recovery.transportState(transport, state);
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
    if (video) await this.produceCamera(transport, video);
    this.cameraOff = !video;
  }

  /** The camera as three VP8 simulcast streams, capped to what anyone receives. */
  private async produceCamera(transport: types.Transport, track: MediaStreamTrack): Promise<void> {
    const vp8 = this.vp8Codec();
    this.producers.set(
      'camera',
      await transport.produce({
        track,
        encodings: CAMERA_SIMULCAST,
        codecOptions: { videoGoogleStartBitrate: 1000 },
        ...(vp8 ? { codec: vp8 } : {}),
        stopTracks: false,
        appData: { source: 'camera' },
      }),
    );
    await this.capCamera();
  }

  /** The highest simulcast layer the camera sends now (QA). */
  cameraSendLayer(): number | null {
    return this.producers.get('camera')?.maxSpatialLayer ?? null;
  }

  /** The camera sends no layer above what anyone receives and the site's uplink profile carries. */
  private async capCamera(): Promise<void> {
    const camera = this.producers.get('camera');
    if (!camera || camera.closed) return;
    const needed = this.cameraLayersNeeded === undefined ? 2 : this.cameraLayersNeeded;
    const cap = this.link.sendCap(needed);
    if (camera.maxSpatialLayer === cap) return;
    await camera.setMaxSpatialLayer(cap).catch((error: unknown) => console.warn('capping the camera failed', error));
  }

  /**
   * Others are told this site's level; at audio only its camera stops too (its link cannot carry
   * it, and the others show its still avatar rather than a frozen frame), and starts again after.
   */
  private async linkLevelChanged(level: LinkLevel): Promise<void> {
    if (this.state !== 'joined' && this.state !== 'joining') return;
    await this.request('link:level', { level }).catch(() => undefined);
    const camera = this.producers.get('camera');
    if (!camera || this.cameraOff) {
      this.cameraPausedForLink = false; // the user's own camera switch decides
      return;
    }
    if (level === 'audio-only' && !this.cameraPausedForLink) {
      this.cameraPausedForLink = true;
      camera.pause();
      await this.request('producer:pause', { producerId: camera.id }).catch(() => undefined);
    } else if (level !== 'audio-only' && this.cameraPausedForLink) {
      this.cameraPausedForLink = false;
      camera.resume();
      await this.request('producer:resume', { producerId: camera.id }).catch(() => undefined);
    }
  }

  /**
   * Knows the producer and receives it, unless it is received already. Without a receive
   * transport (one being rebuilt) it is only known: the rebuild consumes every known producer.
   */
  private async consume(producer: ProducerInfo): Promise<void> {
    this.remoteProducers.set(producer.producerId, producer);
    const transport = this.recvTransport;
    if (!transport || this.consumedProducerIds.has(producer.producerId)) return;
    this.consumedProducerIds.add(producer.producerId);
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
      this.consumers.set(consumer.id, {
        consumer,
        participantId: options.participantId,
        source: options.source,
        applied: { receive: false, spatialLayer: null },
        reading: null,
        rate: { kbps: null, lossPercent: null },
        serverQuality: null,
      });
      this.updateRemote(options.participantId, (remote) => {
        switch (options.source) {
          case 'microphone':
            remote.audioTrack = track;
            remote.micMuted = producer.paused;
            break;
          case 'camera':
            remote.videoTrack = track;
            remote.cameraOff = producer.paused;
            break;
          case 'screen':
            remote.screenTrack = track;
            break;
          case 'screen-audio':
            remote.screenAudioTrack = track;
            break;
        }
      });
      // Sound always plays; a video starts once a tile shows it (created paused at the SFU).
      if (options.kind === 'audio') await this.request('consumer:resume', { consumerId: consumer.id });
      else this.syncConsumer(consumer.id);
    } catch (error) {
      // Not received after all: the next resume or rebuild consumes it again, if it is still there
      // (a rebuild meanwhile has already started afresh on its new transport).
      if (consumer) this.closeConsumer(consumer.id);
      if (transport === this.recvTransport) this.consumedProducerIds.delete(producer.producerId);
      // The other side left (or stopped that media) meanwhile: nothing to receive, not a failure.
      if (!(error instanceof ContractError && error.code === 'not_found')) throw error;
      this.remoteProducers.delete(producer.producerId);
    }
  }

  private dropProducer(producerId: string): void {
    this.remoteProducers.delete(producerId);
    for (const [consumerId, { consumer }] of this.consumers) {
      if (consumer.producerId === producerId) this.closeConsumer(consumerId);
    }
  }

  /** Stops receiving a producer here; it stays known (see `remoteProducers`). */
  private closeConsumer(consumerId: string): void {
    const entry = this.consumers.get(consumerId);
    if (!entry) return;
    this.consumers.delete(consumerId);
    this.consumedProducerIds.delete(entry.consumer.producerId);
    entry.consumer.close();
    this.updateRemote(entry.participantId, (remote) => {
      if (remote.audioTrack === entry.consumer.track) remote.audioTrack = null;
      if (remote.videoTrack === entry.consumer.track) {
        remote.videoTrack = null;
        remote.cameraReceiving = false;
      }
      if (remote.screenTrack === entry.consumer.track) remote.screenTrack = null;
      if (remote.screenAudioTrack === entry.consumer.track) remote.screenAudioTrack = null;
    });
  }

  private addRemote(participant: Participant): void {
    if (participant.participantId === this.self?.participantId) return;
    if (this.remotes.some((remote) => remote.participant.participantId === participant.participantId)) return;
    this.remotes.push({
      participant,
      videoTrack: null,
      audioTrack: null,
      micMuted: false,
      cameraOff: false,
      screenTrack: null,
      screenAudioTrack: null,
      cameraReceiving: false,
      quality: null,
      reconnecting: false,
    });
  }

  private markReconnecting(participantId: string, reconnecting: boolean): void {
    this.updateRemote(participantId, (remote) => (remote.reconnecting = reconnecting));
  }

  /**
   * The socket is back: our participant continues on it (same tile for everyone, media untouched)
   * and what changed meanwhile is caught up — who came and went, what they send — and the joint
   * read, chat, hands and recording state are read afresh. `refused` when signaling no longer
   * has it; `media-lost` when the media need a rebuild.
   */
  private async resumeCall(): Promise<ResumeOutcome> {
    const self = this.self;
    if (!self || !this.resumeToken) return 'refused';
    let resumed: ConferenceResponses['session:resume'];
    try {
      resumed = await this.request('session:resume', {
        sessionId: this.sessionId,
        participantId: self.participantId,
        resumeToken: this.resumeToken,
      });
    } catch (error) {
      // Gone (the grace period ran out), or held by another signaling node: join afresh.
      if (error instanceof ContractError && ['not_found', 'forbidden', 'conflict'].includes(error.code)) {
        return 'refused';
      }
      throw error;
    }
    this.resumeToken = resumed.resumeToken;
    const changes = reconcileCall(
      {
        participantIds: this.remotes.map((remote) => remote.participant.participantId),
        producers: this.remoteProducers,
      },
      resumed,
    );
    for (const participantId of changes.goneParticipantIds) this.removeRemote(participantId);
    for (const participant of changes.newParticipants) this.addRemote(participant);
    for (const remote of this.remotes) {
      remote.reconnecting = resumed.suspendedParticipantIds.includes(remote.participant.participantId);
    }
    this.link.knowRemoteLevels(resumed.linkLevels);
    for (const producerId of changes.goneProducerIds) this.dropProducer(producerId);
    for (const producer of changes.pauseChanged) {
      const known = this.remoteProducers.get(producer.producerId);
      if (known) known.paused = producer.paused;
      this.updateRemote(producer.participantId, (remote) => {
        if (producer.source === 'microphone') remote.micMuted = producer.paused;
        if (producer.source === 'camera') remote.cameraOff = producer.paused;
      });
    }
    this.activeSpeakerId = resumed.activeSpeakerId;
    for (const producer of changes.newProducers) this.remoteProducers.set(producer.producerId, producer);
    // Our own media the SFU no longer holds (a transport closed meanwhile), or transports a
    // rebuild cut short by the drop left missing: the recovery rebuilds them, which consumes
    // everything known. Otherwise what is known but not received here is consumed now: what came
    // meanwhile, and what a consume cut short by the drop left unreceived.
    const ownLost = [...this.producers.values()].some((producer) => !resumed.ownProducerIds.includes(producer.id));
    const mediaLost = ownLost || !this.recvTransport || (this.sending && !this.sendTransport);
    await Promise.all([
      ...(mediaLost ? [] : [...this.remoteProducers.values()].map((producer) => this.consume(producer))),
      this.jointRead?.start(self.participantId),
      this.chat?.start(),
      this.floor?.start(),
      this.recording?.start(),
    ]);
    return mediaLost ? 'media-lost' : 'resumed';
  }

  /** Signaling let our participant go: everything here is dropped and the call joined afresh. */
  private async rejoinCall(): Promise<void> {
    this.leaving = true;
    this.teardown();
    this.state = 'idle';
    await this.join();
  }

  private async restartIce(transport: types.Transport): Promise<void> {
    // The TURN credentials signaling hands out expire: fresh ones go first.
    await this.turnRelay?.refreshIceServers([transport]);
    const { iceParameters } = await this.request('transport:restart-ice', { transportId: transport.id });
    await transport.restartIce({ iceParameters });
  }

  /**
   * Produces a shared screen (one full-resolution VP8 stream) and, when given and still wanted
   * once the screen is on, its sound: for a new share and for a share carried over a rebuild.
   */
  private async produceScreen(
    transport: types.Transport,
    video: MediaStreamTrack,
    audio: MediaStreamTrack | undefined,
    stillSharing: () => boolean = () => true,
  ): Promise<void> {
    const vp8 = this.vp8Codec();
    this.producers.set(
      'screen',
      await transport.produce({
        track: video,
        encodings: SCREEN_ENCODINGS,
        ...(vp8 ? { codec: vp8 } : {}),
        stopTracks: false,
        appData: { source: 'screen' },
      }),
    );
    if (!audio || !stillSharing()) return;
    this.producers.set(
      'screen-audio',
      await transport.produce({
        track: audio,
        codecOptions: { opusStereo: true, opusFec: true },
        stopTracks: false,
        appData: { source: 'screen-audio' },
      }),
    );
  }

  /**
   * A transport failed: both are closed and created again (the SFU replaces its side of each),
   * our microphone, camera and shared screen produced again (muted stays muted) and every remote
   * producer consumed again. The tiles stay; only their tracks change.
   */
  private async rebuildTransports(): Promise<void> {
    for (const consumerId of [...this.consumers.keys()]) this.closeConsumer(consumerId);
    // Consumers still being created go with the old transport.
    this.consumedProducerIds.clear();
    for (const producer of this.producers.values()) producer.close();
    this.producers.clear();
    const sending = this.sending;
    this.sendTransport?.close();
    this.recvTransport?.close();
    // Nothing samples or restarts a closed transport while the new ones are being made.
    this.sendTransport = this.recvTransport = null;
    // New transports with fresh TURN credentials (the first ones may have expired). One made
    // when the other fails is kept, so that the next rebuild closes it.
    const ice = await this.turnRelay?.iceOptions();
    const [send, recv] = await Promise.allSettled([
      sending ? this.createTransport('send', ice) : null,
      this.createTransport('recv', ice),
    ]);
    this.sendTransport = send.status === 'fulfilled' ? send.value : null;
    this.recvTransport = recv.status === 'fulfilled' ? recv.value : null;
    for (const made of [send, recv]) if (made.status === 'rejected') throw made.reason;
    const cameraOff = this.cameraOff;
    await Promise.all([
      this.produceLocalMedia(),
      ...[...this.remoteProducers.values()].map((producer) => this.consume(producer)),
    ]);
    this.cameraOff = cameraOff || this.cameraOff;
    const microphone = this.producers.get('microphone');
    if (microphone && this.micMuted) {
      microphone.pause();
      await this.request('producer:pause', { producerId: microphone.id });
    }
    // The screen still shared (kept by the stream, not by the producers an earlier, cut-short
    // rebuild may have closed already).
    const transport = this.sendTransport;
    const [screenVideo] = this.screenStream?.getVideoTracks() ?? [];
    const [screenAudio] = this.screenStream?.getAudioTracks() ?? [];
    if (transport && screenVideo?.readyState === 'live') {
      await this.produceScreen(
        transport,
        screenVideo,
        screenAudio?.readyState === 'live' ? screenAudio : undefined,
      ).catch(async (error: unknown) => {
        // Someone else shares now (ours ended with the old transport): ours stops, like a refused share.
        if (!(error instanceof ContractError && error.code === 'conflict')) throw error;
        this.screenShareProblem = 'screenShareRefused';
        await this.stopScreenShare();
      });
    }
    for (const [consumerId, entry] of this.consumers) {
      if (entry.consumer.kind === 'video') this.syncConsumer(consumerId);
    }
  }

  private removeRemote(participantId: string): void {
    // Their producers go, and with them the consumers of those (every consumer's producer is known).
    for (const producer of [...this.remoteProducers.values()]) {
      if (producer.participantId === participantId) this.dropProducer(producer.producerId);
    }
    this.remotes = this.remotes.filter((remote) => remote.participant.participantId !== participantId);
    this.link.forget(participantId);
    this.speakingOrder = this.speakingOrder.filter((id) => id !== participantId);
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

  private vp8Codec(): types.RtpCodecCapability | undefined {
    return this.device?.rtpCapabilities.codecs?.find((codec) => codec.mimeType.toLowerCase() === 'video/vp8');
  }

  /** Sends a video consumer's demand to the SFU, one request at a time per consumer, the latest demand last. */
  private syncConsumer(consumerId: string): void {
    if (this.syncing.has(consumerId)) {
      this.resync.add(consumerId);
      return;
    }
    this.syncing.add(consumerId);
    void this.applyDemand(consumerId)
      .catch((error: unknown) => {
        // The consumer closed meanwhile (its producer left): nothing to forward any more.
        if (!(error instanceof ContractError)) console.error('changing what the media server forwards failed', error);
      })
      .finally(() => {
        this.syncing.delete(consumerId);
        if (this.resync.delete(consumerId) && this.consumers.has(consumerId)) this.syncConsumer(consumerId);
      });
  }

  private async applyDemand(consumerId: string): Promise<void> {
    const entry = this.consumers.get(consumerId);
    if (!entry) return;
    const key = demandKey(entry.participantId, entry.source);
    const receive = this.shownVideos.has(key);
    const spatialLayer = this.shownVideos.get(key) ?? null;
    const { applied } = entry;
    // The layer first, so a resumed video starts at the size its tile needs.
    if (receive && spatialLayer !== null && spatialLayer !== applied.spatialLayer) {
      await this.request('consumer:layers', { consumerId, spatialLayer });
      applied.spatialLayer = spatialLayer;
    }
    if (receive !== applied.receive) {
      await this.request(receive ? 'consumer:resume' : 'consumer:pause', { consumerId });
      applied.receive = receive;
    }
    if (entry.source === 'camera')
      this.updateRemote(entry.participantId, (remote) => (remote.cameraReceiving = receive));
  }

  /** Each tile's connection quality, from the browser's statistics and the SFU's scores and layers. */
  private async sampleQuality(): Promise<void> {
    const entries = [...this.consumers.values()];
    const readings = await Promise.all(
      entries.map(async (entry) => readRtp(statsEntries(await entry.consumer.getStats().catch(() => null)), 'inbound')),
    );
    for (const [index, entry] of entries.entries()) {
      const reading = readings[index];
      if (!reading) continue;
      entry.rate = rtpRate(entry.reading, reading);
      entry.reading = reading;
    }
    for (const remote of this.remotes) {
      const own = entries.filter((entry) => entry.participantId === remote.participant.participantId && entry.reading);
      if (own.length === 0) continue;
      const video =
        own.find((entry) => entry.source === 'camera') ?? own.find((entry) => entry.consumer.kind === 'video');
      const scored = video?.serverQuality ?? own.find((entry) => entry.serverQuality)?.serverQuality ?? null;
      const rates = own.map((entry) => entry.rate.kbps).filter((kbps) => kbps !== null);
      const lossPercent = own.reduce<number | null>((loss, entry) => worst(loss, entry.rate.lossPercent), null);
      const roundTripTimeMs =
        own.find((entry) => entry.reading?.roundTripTimeMs !== null)?.reading?.roundTripTimeMs ?? null;
      const score = scored ? Math.min(scored.score, scored.producerScore) : null;
      remote.quality = {
        level: qualityLevel({ roundTripTimeMs, lossPercent, score }),
        roundTripTimeMs,
        lossPercent,
        sendKbps: null,
        receiveKbps: rates.length ? rates.reduce((sum, kbps) => sum + kbps, 0) : null,
        spatialLayer: video?.serverQuality?.spatialLayer ?? null,
        temporalLayer: video?.serverQuality?.temporalLayer ?? null,
        frameHeight: video?.reading?.frameHeight ?? null,
        score: scored?.score ?? null,
        producerScore: scored?.producerScore ?? null,
      };
    }
    const streams = entries.map((entry) => ({
      receiving: entry.consumer.kind === 'audio' || entry.applied.receive,
      kbps: entry.rate.kbps,
      lossPercent: entry.rate.lossPercent,
      roundTripTimeMs: entry.reading?.roundTripTimeMs ?? null,
      score: entry.serverQuality?.score ?? null,
      producerScore: entry.serverQuality?.producerScore ?? null,
      starved: this.starved(entry),
    }));
    // Each transport's statistics once: the link policy and the path report both read them.
    const [sendStats, recvStats] = await Promise.all(
      [this.sendTransport, this.recvTransport].map(
        async (transport) => (await transport?.getStats().catch(() => null)) ?? null,
      ),
    );
    this.link.measure(streams, availableIncomingKbps(statsEntries(recvStats ?? null)), this.measureDownlink());
    await Promise.all([
      this.sampleLocalQuality(),
      this.turnRelay?.sample({ send: sendStats ?? null, recv: recvStats ?? null }),
    ]);
  }

  /**
   * Whether the SFU forwards no layer of a camera this browser asks for although its sender
   * sends well (the producer is not paused and a stream of it reaches the SFU in good shape):
   * the SFU's bandwidth estimate of this link cannot fit it. Only cameras: a screen's single
   * stream has no layers to report.
   */
  private starved(entry: ConsumerEntry): boolean {
    const quality = entry.serverQuality;
    if (entry.source !== 'camera' || !entry.applied.receive || !quality) return false;
    if (this.remoteProducers.get(entry.consumer.producerId)?.paused) return false;
    return quality.spatialLayer === null && quality.bestProducerScore >= LINK_POLICY.scoreGood;
  }

  /**
   * The SFU's latest measure of its hop to this browser, if fresh; null without one (the policy
   * then reads the browser's own figures). Each sample asks again unless an answer is still on
   * its way: on a long, lossy link answers take seconds, and the sample does not wait for them.
   */
  private measureDownlink(): DownlinkMeasure | null {
    if (this.recvTransport && !this.downlinkAsked) {
      this.downlinkAsked = true;
      this.request('link:downlink', {})
        .then(
          (measure) => (this.downlink = { measure, at: Date.now() }),
          () => undefined,
        )
        .finally(() => (this.downlinkAsked = false));
    }
    const last = this.downlink;
    return last && Date.now() - last.at <= DOWNLINK_FRESH_MS ? last.measure : null;
  }

  private async sampleLocalQuality(): Promise<void> {
    const producers = [...this.producers.values()];
    if (producers.length === 0) return;
    const reports = await Promise.all(producers.map((producer) => producer.getStats().catch(() => null)));
    const reading = readRtp(reports.flatMap(statsEntries), 'outbound');
    if (!reading) return;
    const rate = rtpRate(this.localReading, reading);
    this.localReading = reading;
    const camera = this.producers.get('camera');
    const cameraReading = camera ? readRtp(statsEntries(reports[producers.indexOf(camera)] ?? null), 'outbound') : null;
    this.localQuality = {
      level: qualityLevel({ roundTripTimeMs: reading.roundTripTimeMs, lossPercent: rate.lossPercent, score: null }),
      roundTripTimeMs: reading.roundTripTimeMs,
      lossPercent: rate.lossPercent,
      sendKbps: rate.kbps,
      receiveKbps: null,
      spatialLayer: null,
      temporalLayer: null,
      frameHeight: cameraReading?.frameHeight ?? null,
      score: null,
      producerScore: null,
    };
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
    this.recovery.dispose();
    this.pending = null;
    this.jointRead?.dispose();
    if (this.qualityTimer) clearInterval(this.qualityTimer);
    this.qualityTimer = null;
    for (const track of this.screenStream?.getTracks() ?? []) track.stop();
    this.screenStream = null;
    this.screenShareStarting = false;
    this.localQuality = null;
    this.localReading = null;
    this.downlink = null;
    this.turnRelay?.reset();
    this.link.reset();
    this.cameraLayersNeeded = undefined;
    this.cameraPausedForLink = false;
    this.speakingOrder = [];
    for (const { consumer } of this.consumers.values()) consumer.close();
    this.consumers.clear();
    this.consumedProducerIds.clear();
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

/** The receive path's estimated capacity (Chrome reports it only with receive-side estimation). */
function availableIncomingKbps(entries: StatsEntry[]): number | null {
  const pair = entries.find(
    (entry) => entry.type === 'candidate-pair' && entry.nominated && entry.state === 'succeeded',
  );
  const bitrate = pair?.availableIncomingBitrate;
  return typeof bitrate === 'number' && bitrate > 0 ? Math.round(bitrate / 1000) : null;
}

/** The entries of a WebRTC statistics report (none when there is no report). */
function statsEntries(report: RTCStatsReport | null): StatsEntry[] {
  const entries: StatsEntry[] = [];
  report?.forEach((entry: StatsEntry) => entries.push(entry));
  return entries;
}

/**
 * Camera and microphone (those chosen in the pre-call check, if still there); a site without a
 * working camera joins with voice only.
 */
async function openLocalMedia(): Promise<MediaStream> {
  try {
    return await openPreferredMedia({ audio: MICROPHONE_CONSTRAINTS, video: CAMERA_CONSTRAINTS });
  } catch {
    return openPreferredMedia({ audio: MICROPHONE_CONSTRAINTS });
  }
}
