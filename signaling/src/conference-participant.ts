import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import {
  ContractError,
  conferenceRequestSchemas,
  type ConferenceClientEvents,
  type ConferenceNotifications,
  type ConferenceResponses,
  type ConsumerQuality,
  type JoinedSession,
  type Participant,
  type ParticipantLeaveReason,
  type RecordingState,
  type RtpCapabilities,
  type SessionEndReason,
  type TransportDirection,
} from '@telemed/contract';
import { dispatchRequests, type RequestHandlers } from '@telemed/contract/server';
import {
  joinRefusal,
  linkCaps,
  mayAdmit,
  mayProduceMedia,
  type AccountStore,
  type AuditLog,
  type DomainEvent,
  type SessionAdmission,
  type SessionChatLog,
  type SessionStore,
  type SiteStore,
  UNRESTRICTED_LINK,
} from '@telemed/domain';
import { awaitsResume, type ConferencePresence } from './conference-presence.ts';
import { ConnectivityCheck, type ProbeRequestName } from './connectivity-check.ts';
import type { JointReadStore } from './joint-read-store.ts';
import type { ScreenShareStore } from './screen-share-store.ts';
import type { RaisedHands } from './raised-hands.ts';
import { SessionChat, type ChatRequestName } from './session-chat.ts';
import { SessionFloor, type FloorRequestName } from './session-floor.ts';
import { SessionJointRead, type JointReadRequestName } from './session-joint-read.ts';
import { recordingHandlers, type RecordingRequestName } from './session-recording.ts';
import type { SfuClient } from './sfu-client.ts';
import { SessionLobby, accountRoomOf, type LobbyRequestName } from './session-lobby.ts';
import { SessionMediaControl, type MediaControlRequestName } from './session-media-control.ts';
import { SessionTurnRelay, type TurnRelayRequestName } from './session-turn-relay.ts';
import type { TransportPathStore } from './transport-path-store.ts';
import type { TurnSettings } from './turn-credentials.ts';
import { recordForSocket, type SocketAuditEntry } from './socket-audit.ts';
import { ResumeToken } from './resume-token.ts';

/** What the handshake established about the socket's account (see `authenticateSocket`). */
export interface SocketAccount {
  accountId: string;
  displayName: string;
  siteId: string;
}

export interface SocketData {
  account: SocketAccount;
  /** Set while the socket is in a session. */
  participantId?: string;
  /** Sessions whose waiting room this socket knocked on (read by other nodes, see SessionLobby). */
  knockedSessionIds: string[];
}

export type ConferenceSocket = Socket<ConferenceClientEvents, ConferenceNotifications, object, SocketData>;

export interface ConferenceDependencies {
  accounts: AccountStore;
  sessions: SessionStore;
  sites: SiteStore;
  audit: AuditLog;
  admission: SessionAdmission;
  presence: ConferencePresence;
  jointRead: JointReadStore;
  screenShares: ScreenShareStore;
  chat: SessionChatLog;
  hands: RaisedHands;
  sfu: SfuClient;
  /** The TURN servers browsers may relay through, and their shared secret; null without TURN. */
  turn: TurnSettings | null;
  transportPaths: TransportPathStore;
  logger: Logger;
  /** Publishes a domain event to every node (and the other services), e.g. a host's mute. */
  publish(event: DomainEvent): Promise<void>;
  /** Live sockets in a session across all signaling nodes (through the Redis adapter). */
  liveSocketIds(sessionId: string): Promise<Set<string>>;
  /** This node's joined participants, for SFU events addressed to one of them. */
  local: Map<string, ConferenceParticipant>;
  /**
   * Every connection on this node, joined or not (for ending calls and dropping accounts),
   * suspended participants included until they resume or leave.
   */
  connections: Set<ConferenceParticipant>;
  /** How long a participant whose socket dropped waits, suspended, to be resumed (ms). */
  resumeGraceMs: number;
}

export const roomOf = (sessionId: string) => `session:${sessionId}`;

/** A connection's participant while in a session. */
interface JoinedSeat {
  sessionId: string;
  participant: Participant;
  mayProduce: boolean;
  isHost: boolean;
  /** Checks the token its browser presents to resume from a new socket. */
  resumeCheck: ResumeToken;
}

/** What the connection's participant is, while it is in a session (for the per-concern classes). */
export interface SessionSeat {
  sessionId: string;
  participant: Participant;
  /** Whether the account was the host on joining (the joint read's hand-off follows it). */
  isHost: boolean;
  room: string;
}

/** The seat of a connection that must be in a session for its request (else `conflict`). */
export function requireSeat(seat: SessionSeat | null): SessionSeat {
  if (!seat) throw new ContractError('conflict', 'join a session first');
  return seat;
}

/** Why a participant left its session (kept in the audit trail, told to the others). */
export type LeaveReason = ParticipantLeaveReason;

/** Disconnect reasons that are not a broken link: the participant leaves rather than being suspended. */
const DELIBERATE_DISCONNECTS = new Set([
  'client namespace disconnect',
  'server namespace disconnect',
  'server shutting down',
]);

/** The same answer for every refusal: session ids are not to be probed, nor schedules read. */
const JOIN_REFUSED = 'you may not enter this session now';

/**
 * One browser connection and, once joined, its participant in a session. Every request is
 * validated by the contract's schemas (see `dispatchRequests`), checked against what this
 * socket may do, and relayed to the SFU; what others must know is broadcast to the room.
 */
export class ConferenceParticipant {
  private readonly socket: ConferenceSocket;
  private readonly deps: ConferenceDependencies;
  private readonly log: Logger;
  private readonly lobby: SessionLobby;
  private readonly jointRead: SessionJointRead;
  private readonly connectivity: ConnectivityCheck;
  private readonly media: SessionMediaControl;
  private readonly chat: SessionChat;
  private readonly floor: SessionFloor;
  private readonly turnRelay: SessionTurnRelay;
  private joined: JoinedSeat | null = null;
  private joining = false;
  /** While suspended (socket gone, see `suspend`): ends the participant when the grace period is over. */
  private graceTimer: NodeJS.Timeout | null = null;
  /** The suspension being recorded (presence, room, audit): a resume waits for it, so its write cannot come last. */
  private suspension: Promise<void> = Promise.resolve();

  constructor(socket: ConferenceSocket, deps: ConferenceDependencies) {
    this.socket = socket;
    this.deps = deps;
    this.log = deps.logger.child({ socket: socket.id, accountId: socket.data.account.accountId });
    this.lobby = new SessionLobby(socket, deps, this.log);
    const seat = () => this.seat();
    this.jointRead = new SessionJointRead(socket, deps, this.log, seat);
    this.chat = new SessionChat(socket, deps, this.log, seat);
    this.floor = new SessionFloor(socket, deps, this.log, seat);
    this.connectivity = new ConnectivityCheck(socket, deps, this.log);
    this.media = new SessionMediaControl(socket, deps, this.log, seat);
    this.turnRelay = new SessionTurnRelay(socket, deps, this.log, seat);
    deps.connections.add(this);
    // Waiting-room decisions and list changes are addressed to the account, wherever it is connected.
    Promise.resolve(socket.join(accountRoomOf(socket.data.account.accountId))).catch((error: unknown) =>
      this.log.error({ err: error }, 'could not join the account room'),
    );
    dispatchRequests<typeof conferenceRequestSchemas, ConferenceResponses>(
      socket,
      conferenceRequestSchemas,
      {
        ...this.handlers(),
        ...this.lobby.handlers(),
        ...this.jointRead.handlers(),
        ...this.connectivity.handlers(),
        ...this.media.handlers(),
        ...this.chat.handlers(),
        ...this.floor.handlers(),
        ...this.turnRelay.handlers(),
        ...recordingHandlers(deps, seat),
      },
      {
        onUnexpectedError: (event, error) => this.log.error({ err: error, event }, 'request failed'),
        onUnanswerable: (event) => this.log.debug({ event }, 'event without ack ignored'),
      },
    );
    socket.on('disconnect', (reason) => {
      this.log.info({ reason }, 'socket disconnected');
      // A participant in a call whose link broke is suspended, not gone: its browser may come
      // back (session:resume). A socket closed on purpose, by the browser or by this node, leaves.
      if (this.joined && !DELIBERATE_DISCONNECTS.has(reason)) {
        this.suspension = this.suspend().catch((error: unknown) => this.log.error({ err: error }, 'suspending failed'));
      } else {
        deps.connections.delete(this);
        void this.leave('disconnected').catch((error: unknown) =>
          this.log.error({ err: error }, 'leave after disconnect failed'),
        );
      }
      void this.lobby
        .withdrawAll()
        .catch((error: unknown) => this.log.error({ err: error }, 'withdrawing after disconnect failed'));
      void this.connectivity.closeAll();
    });
  }

  get participantId(): string | null {
    return this.joined?.participant.participantId ?? null;
  }

  get accountId(): string {
    return this.socket.data.account.accountId;
  }

  /** The session this connection is in, if any. */
  get sessionId(): string | null {
    return this.joined?.sessionId ?? null;
  }

  /** Sessions this connection waits to enter. */
  get knockedSessionIds(): readonly string[] {
    return this.lobby.knockedSessionIds;
  }

  /**
   * The session is over for this connection: it is told why, then leaves the call (media
   * closed, presence removed, others told) or stops waiting.
   */
  async endSession(sessionId: string, reason: SessionEndReason): Promise<void> {
    const inCall = this.joined?.sessionId === sessionId;
    const waiting = this.lobby.knockedSessionIds.includes(sessionId);
    if (!inCall && !waiting) return;
    this.socket.emit('session:ended', { sessionId, reason });
    // A session that is over has no waiting room to leave; a revoked account must not stay listed.
    try {
      if (waiting && reason === 'access-revoked') await this.lobby.stopWaiting(sessionId);
      else this.lobby.forget(sessionId);
    } finally {
      if (inCall) await this.leave(reason);
    }
  }

  /** The account lost its access (deactivated): every call and wait ends, then the connection. */
  async revoke(): Promise<void> {
    const sessionIds = new Set([...(this.joined ? [this.joined.sessionId] : []), ...this.lobby.knockedSessionIds]);
    try {
      for (const sessionId of sessionIds) await this.endSession(sessionId, 'access-revoked');
    } finally {
      this.drop();
    }
  }

  notifyCaseAttached(sessionId: string): void {
    this.socket.emit('session:case-attached', { sessionId });
  }

  notifyConsumerClosed(consumerId: string): void {
    this.socket.emit('consumer:closed', { consumerId });
  }

  notifyConsumerQuality(quality: ConsumerQuality): void {
    this.media.notifyConsumerQuality(quality);
  }

  notifyLayersNeeded(producerId: string, spatialLayer: number | null): void {
    this.socket.emit('producer:layers-needed', { producerId, spatialLayer });
  }

  notifyRecordingState(sessionId: string, state: RecordingState): void {
    if (this.joined?.sessionId === sessionId) this.socket.emit('recording:state', state);
  }

  /**
   * The host muted this participant: its microphone is paused on the SFU (whatever its browser
   * does), everyone else sees it muted, and the participant is told. Only the participant's own
   * `producer:resume` turns it back on.
   */
  async muteByHost(sessionId: string): Promise<void> {
    const ref = this.joined?.sessionId === sessionId ? this.ref() : null;
    if (!ref) return;
    const producers = await this.deps.presence.producers(sessionId);
    const microphone = producers.find(
      (producer) => producer.participantId === ref.participantId && producer.source === 'microphone',
    );
    if (!microphone) return;
    if (!microphone.paused) await this.setPaused(microphone.producerId, true);
    this.socket.emit('floor:muted', { sessionId });
  }

  /** Ends the connection, e.g. when the SFU that held its media went away. */
  drop(): void {
    this.socket.disconnect(true);
  }

  private handlers(): Omit<
    RequestHandlers<typeof conferenceRequestSchemas, ConferenceResponses>,
    | LobbyRequestName
    | JointReadRequestName
    | ProbeRequestName
    | MediaControlRequestName
    | ChatRequestName
    | FloorRequestName
    | RecordingRequestName
    | TurnRelayRequestName
  > {
    const { sfu, presence } = this.deps;
    return {
      'session:capabilities': async ({ sessionId }) => {
        await this.authorize(sessionId);
        const { rtpCapabilities } = await sfu.request('router:capabilities', { sessionId });
        return { routerRtpCapabilities: rtpCapabilities };
      },
      'session:join': async ({ sessionId, rtpCapabilities }) => this.join(sessionId, rtpCapabilities),
      'session:resume': async (request) => this.resume(request),
      'transport:restart-ice': async ({ transportId }) => {
        const restarted = await sfu.request('transport:restart-ice', { ...this.ref(), transportId });
        this.log.info({ participantId: this.participantId, transportId }, 'ICE restarted');
        return restarted;
      },
      'session:leave': async () => {
        await this.leave('left');
        return {};
      },
      'transport:create': async ({ direction }) => {
        const ref = this.ref();
        return sfu.request('transport:create', { ...ref, direction, ...(await this.siteLinkCap(direction)) });
      },
      'transport:connect': async (request) => {
        await sfu.request('transport:connect', { ...this.ref(), ...request });
        return {};
      },
      'producer:create': async (request) => {
        const ref = this.ref();
        if (!this.joined?.mayProduce) {
          throw new ContractError('forbidden', 'observers watch and listen; they do not send camera or microphone');
        }
        const { producerId } = await sfu.request('producer:create', { ...ref, ...request });
        const producer = {
          producerId,
          participantId: ref.participantId,
          kind: request.kind,
          source: request.source,
          paused: false,
        };
        await this.media.publish(producer);
        this.socket.to(roomOf(ref.sessionId)).emit('producer:added', producer);
        return { producerId };
      },
      'producer:pause': async ({ producerId }) => this.setPaused(producerId, true),
      'producer:resume': async ({ producerId }) => this.setPaused(producerId, false),
      'producer:close': async ({ producerId }) => {
        const ref = this.ref();
        await sfu.request('producer:close', { ...ref, producerId });
        const removed = await presence.removeProducer(ref.sessionId, producerId);
        if (removed) {
          this.socket
            .to(roomOf(ref.sessionId))
            .emit('producer:removed', { producerId, participantId: ref.participantId });
          await this.media.unpublished(removed);
        }
        return {};
      },
      'consumer:create': async ({ producerId }) => {
        const ref = this.ref();
        const producer = await presence.producer(ref.sessionId, producerId);
        if (!producer) throw new ContractError('not_found', 'producer not found');
        const consumer = await sfu.request('consumer:create', { ...ref, producerId });
        return { ...consumer, participantId: producer.participantId };
      },
      'consumer:resume': async ({ consumerId }) => {
        await sfu.request('consumer:resume', { ...this.ref(), consumerId });
        return {};
      },
    };
  }

  /**
   * Whether this account may enter the session now (live, and invited or admitted); refusals
   * are audited with their reason, but answered all alike.
   */
  private async authorize(sessionId: string) {
    const { accounts, sessions, admission } = this.deps;
    const [account, session] = await Promise.all([accounts.get(this.accountId), sessions.get(sessionId)]);
    const standing =
      account && session ? await admission.standing(sessionId, account.id) : { admitted: false, removed: false };
    const refusal = !account ? 'inactive' : !session ? 'unknown-session' : joinRefusal(account, session, standing);
    if (!account || !session || refusal) {
      await this.audit({
        action: 'conference.denied',
        outcome: 'denied',
        target: `session:${sessionId}`,
        sessionId,
        detail: { reason: refusal },
      });
      throw new ContractError('forbidden', JOIN_REFUSED);
    }
    return { account, session };
  }

  private async join(sessionId: string, rtpCapabilities: RtpCapabilities) {
    if (this.joined || this.joining) throw new ContractError('conflict', 'already in a session; leave it first');
    this.joining = true;
    try {
      const { account, session } = await this.authorize(sessionId);
      const { sfu, presence, sites } = this.deps;
      const site = await sites.get(account.siteId);
      const participant: Participant = {
        participantId: randomUUID(),
        accountId: account.id,
        displayName: account.displayName,
        siteId: account.siteId,
        siteNameJa: site?.nameJa ?? account.siteId,
        siteNameEn: site?.nameEn ?? account.siteId,
        joinedAt: new Date().toISOString(),
      };
      await sfu.request('participant:open', { sessionId, participantId: participant.participantId, rtpCapabilities });
      // In the room before in the presence: another joiner's stale-presence check counts an
      // entry whose socket is not in the room as left behind by a crashed node, and removed
      // participants that were still between the two steps (two sites pressing Join at once).
      await this.socket.join(roomOf(sessionId));
      try {
        await this.dropStalePresence(sessionId);
        await presence.add(sessionId, { participant, socketId: this.socket.id });
      } catch (error) {
        // Not in the session after all (Redis away): out of its room and its media.
        await this.socket.leave(roomOf(sessionId));
        await sfu.request('participant:close', { sessionId, participantId: participant.participantId }).catch(() => {});
        throw error;
      }
      const { token, check } = ResumeToken.issue();
      this.joined = {
        sessionId,
        participant,
        mayProduce: mayProduceMedia(account),
        isHost: mayAdmit(account, session),
        resumeCheck: check,
      };
      this.socket.data.participantId = participant.participantId;
      this.deps.local.set(participant.participantId, this);
      if (this.socket.disconnected) {
        // The browser went away while joining: undo it like any other disconnect.
        await this.leave('disconnected');
        throw new ContractError('conflict', 'disconnected while joining');
      }
      this.socket.to(roomOf(sessionId)).emit('participant:joined', participant);
      await this.audit({
        action: 'conference.joined',
        outcome: 'success',
        target: `session:${sessionId}`,
        sessionId,
        detail: { participantId: participant.participantId },
      });
      this.log.info({ sessionId, participantId: participant.participantId }, 'joined session');
      return (await this.sessionView(this.joined, token, mayAdmit(account, session))).joined;
    } finally {
      this.joining = false;
    }
  }

  /**
   * Everything a browser needs to show the call it is (back) in: the others, their media, who
   * speaks, and who is away reconnecting; for a resume also its own producers the SFU still holds.
   */
  private async sessionView(
    seat: JoinedSeat,
    resumeToken: string,
    mayAdmitGuests: boolean,
  ): Promise<{ joined: JoinedSession; ownProducerIds: string[] }> {
    const { presence, resumeGraceMs } = this.deps;
    const { sessionId, participant } = seat;
    const [entries, producers, activeSpeakerId] = await Promise.all([
      presence.participants(sessionId),
      presence.producers(sessionId),
      presence.activeSpeaker(sessionId),
    ]);
    const others = entries.filter((entry) => entry.participant.participantId !== participant.participantId);
    const isOwn = (producer: { participantId: string }) => producer.participantId === participant.participantId;
    return {
      joined: {
        self: participant,
        mayProduceMedia: seat.mayProduce,
        mayAdmit: mayAdmitGuests,
        participants: others.map((entry) => entry.participant),
        producers: producers.filter((producer) => !isOwn(producer)),
        activeSpeakerId,
        resumeToken,
        suspendedParticipantIds: others
          .filter((entry) => awaitsResume(entry, resumeGraceMs))
          .map((entry) => entry.participant.participantId),
        linkLevels: Object.fromEntries(
          others.flatMap(({ participant: other, linkLevel }) =>
            linkLevel && linkLevel !== 'full' ? [[other.participantId, linkLevel]] : [],
          ),
        ),
      },
      ownProducerIds: producers.filter(isOwn).map((producer) => producer.producerId),
    };
  }

  /**
   * The socket dropped while in a call: the participant stays — its media on the SFU, its tile,
   * hand and presenter role — for the grace period, marked suspended so the others show it as
   * reconnecting and no node takes its presence for one a crashed node left behind. A
   * `session:resume` from the browser's next socket takes it over; else it leaves with
   * `connection-lost`.
   */
  private async suspend(): Promise<void> {
    const joined = this.joined;
    if (!joined) return;
    const { sessionId, participant } = joined;
    const { participantId } = participant;
    const graceMs = this.deps.resumeGraceMs;
    this.graceTimer = setTimeout(() => {
      this.graceTimer = null;
      this.deps.connections.delete(this);
      void this.leave('connection-lost').catch((error: unknown) =>
        this.log.error({ err: error }, 'leave after the grace period failed'),
      );
    }, graceMs);
    // Held back changes of a presenter go out now; the next ones come from the resumed socket.
    this.jointRead.flushHeld();
    if (!(await this.deps.presence.suspend(sessionId, participantId, new Date()))) return;
    if (this.joined !== joined || !this.graceTimer) return; // resumed or gone meanwhile
    this.socket.nsp.to(roomOf(sessionId)).emit('participant:suspended', { participantId, graceMs });
    await this.audit({
      action: 'conference.suspended',
      outcome: 'success',
      target: `session:${sessionId}`,
      sessionId,
      detail: { participantId, graceMs },
    });
    this.log.info({ sessionId, participantId, graceMs }, 'participant suspended');
  }

  /** Whether this connection holds that participant of that session for the account, with that token. */
  private holdsFor(sessionId: string, accountId: string, resumeToken: string): boolean {
    const joined = this.joined;
    if (!joined || joined.sessionId !== sessionId) return false;
    // Both are checked in full whatever the first says: no early answer to time.
    const tokenMatches = joined.resumeCheck.matches(resumeToken);
    return tokenMatches && joined.participant.accountId === accountId;
  }

  /**
   * Gives the participant up to a new connection of the same browser (synchronously: nothing can
   * come between the check and the hand-over). A socket still connected — the browser saw the
   * link die before this node did — is closed; its disconnect no longer suspends anything.
   */
  private handOver(): JoinedSeat | null {
    const joined = this.joined;
    if (!joined) return null;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
    this.jointRead.flushHeld();
    this.joined = null;
    this.socket.data.participantId = undefined;
    this.deps.connections.delete(this);
    if (this.socket.connected) this.socket.disconnect(true);
    return joined;
  }

  /** `session:resume`: this new socket takes over the account's participant held on this node. */
  private async resume(request: { sessionId: string; participantId: string; resumeToken: string }) {
    const { sessionId, participantId, resumeToken } = request;
    if (this.joined || this.joining) throw new ContractError('conflict', 'already in a session; leave it first');
    this.joining = true;
    try {
      const refuse = async (reason: string, error: ContractError): Promise<never> => {
        await this.audit({
          action: 'conference.resume-refused',
          outcome: 'denied',
          target: `session:${sessionId}`,
          sessionId,
          detail: { participantId, reason },
        });
        throw error;
      };
      const held = this.deps.local.get(participantId);
      if (!held) {
        // Media on the SFU belong to the node that opened them: another node cannot take them over.
        const present = await this.deps.presence.participants(sessionId);
        if (present.some((entry) => entry.participant.participantId === participantId)) {
          await refuse('other-node', new ContractError('conflict', 'another signaling node holds it; join afresh'));
        }
        await refuse('expired', new ContractError('not_found', 'no longer in the session; join afresh'));
      }
      if (!held!.holdsFor(sessionId, this.accountId, resumeToken)) {
        await refuse('mismatch', new ContractError('forbidden', JOIN_REFUSED));
      }
      // Still allowed in (an access revoked while away ends here; the grace period ends the rest).
      const { account, session } = await this.authorize(sessionId);
      const taken = held!.handOver();
      if (!taken) await refuse('expired', new ContractError('not_found', 'no longer in the session; join afresh'));
      await held!.suspension;
      const { token, check } = ResumeToken.issue();
      const seat: JoinedSeat = {
        ...taken!,
        mayProduce: mayProduceMedia(account),
        isHost: mayAdmit(account, session),
        resumeCheck: check,
      };
      this.joined = seat;
      this.socket.data.participantId = participantId;
      this.deps.local.set(participantId, this);
      await this.socket.join(roomOf(sessionId));
      await this.deps.presence.rebind(sessionId, participantId, this.socket.id);
      if (this.socket.disconnected) {
        // Gone again while resuming: suspended again, the grace period starting anew.
        await this.suspend();
        throw new ContractError('conflict', 'disconnected while resuming');
      }
      this.socket.to(roomOf(sessionId)).emit('participant:resumed', { participantId });
      await this.audit({
        action: 'conference.resumed',
        outcome: 'success',
        target: `session:${sessionId}`,
        sessionId,
        detail: { participantId },
      });
      this.log.info({ sessionId, participantId }, 'participant resumed');
      const { joined, ownProducerIds } = await this.sessionView(seat, token, mayAdmit(account, session));
      return { ...joined, ownProducerIds };
    } finally {
      this.joining = false;
    }
  }

  /** Leaves the session (if in one): media closed, presence removed, others told, audited. */
  async leave(reason: LeaveReason): Promise<void> {
    const joined = this.joined;
    if (!joined) return;
    this.joined = null;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
    this.socket.data.participantId = undefined;
    const { sessionId, participant } = joined;
    const { participantId } = participant;
    this.deps.local.delete(participantId);
    const seat = { sessionId, participant, isHost: joined.isHost, room: roomOf(sessionId) };
    await this.jointRead
      .leave(seat)
      .catch((error: unknown) => this.log.warn({ err: error, participantId }, 'could not leave the joint read'));
    await this.floor
      .leave(seat)
      .catch((error: unknown) => this.log.warn({ err: error, participantId }, 'could not lower the hand'));
    await this.deps.sfu.request('participant:close', { sessionId, participantId }).catch((error: unknown) => {
      // The SFU closes an unreachable node's participants itself.
      this.log.warn({ err: error, participantId }, 'could not close participant media');
    });
    const producers = await this.deps.presence.remove(sessionId, participantId);
    const room = this.socket.nsp.to(roomOf(sessionId)).except(this.socket.id);
    for (const { producerId } of producers) room.emit('producer:removed', { producerId, participantId });
    room.emit('participant:left', { participantId, reason });
    await this.socket.leave(roomOf(sessionId));
    await this.turnRelay
      .leave(seat)
      .catch((error: unknown) => this.log.warn({ err: error, participantId }, 'could not forget the transport path'));
    await this.audit({
      action: 'conference.left',
      outcome: 'success',
      target: `session:${sessionId}`,
      sessionId,
      detail: { participantId, reason },
    });
    this.log.info({ sessionId, participantId, reason }, 'left session');
  }

  /** Presence (and raised hands) of sockets that no longer exist anywhere (a signaling node that crashed). */
  private async dropStalePresence(sessionId: string): Promise<void> {
    const [entries, live] = await Promise.all([
      this.deps.presence.participants(sessionId),
      this.deps.liveSocketIds(sessionId),
    ]);
    for (const entry of entries) {
      const { participant, socketId } = entry;
      // A suspended participant's socket is gone by design; its node ends it after the grace period.
      if (live.has(socketId) || awaitsResume(entry, this.deps.resumeGraceMs)) continue;
      this.log.warn({ sessionId, participantId: participant.participantId }, 'removing stale presence');
      const producers = await this.deps.presence.remove(sessionId, participant.participantId);
      const room = this.socket.nsp.to(roomOf(sessionId));
      for (const { producerId } of producers)
        room.emit('producer:removed', { producerId, participantId: participant.participantId });
      room.emit('participant:left', { participantId: participant.participantId, reason: 'connection-lost' });
      await this.floor.dropHand(sessionId, participant.participantId);
    }
  }

  private async setPaused(producerId: string, paused: boolean): Promise<Record<string, never>> {
    const ref = this.ref();
    await this.deps.sfu.request(paused ? 'producer:pause' : 'producer:resume', { ...ref, producerId });
    const producer = await this.deps.presence.producer(ref.sessionId, producerId);
    if (producer) {
      await this.deps.presence.putProducer(ref.sessionId, { ...producer, paused });
      this.socket
        .to(roomOf(ref.sessionId))
        .emit('producer:paused', { producerId, participantId: ref.participantId, paused });
    }
    return {};
  }

  private audit(entry: SocketAuditEntry): Promise<void> {
    return recordForSocket(this.deps.audit, this.socket, entry);
  }

  private seat(): SessionSeat | null {
    if (!this.joined) return null;
    const { sessionId, participant, isHost } = this.joined;
    return { sessionId, participant, isHost, room: roomOf(sessionId) };
  }

  /**
   * What the participant's site link carries that way, from its link profile: the SFU holds the
   * transport to it. Read at each creation, so a rebuilt transport follows a coordinator's change.
   */
  private async siteLinkCap(direction: TransportDirection): Promise<{ maxKbps?: number }> {
    const siteId = this.joined?.participant.siteId;
    const site = siteId ? await this.deps.sites.get(siteId) : null;
    const caps = linkCaps(site?.linkProfile ?? UNRESTRICTED_LINK);
    const kbps = direction === 'recv' ? caps.downKbps : caps.upKbps;
    return kbps === null ? {} : { maxKbps: kbps };
  }

  private ref(): { sessionId: string; participantId: string } {
    if (!this.joined) throw new ContractError('conflict', 'join a session first');
    return { sessionId: this.joined.sessionId, participantId: this.joined.participant.participantId };
  }
}
