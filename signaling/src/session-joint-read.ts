import type { Logger } from 'pino';
import {
  ContractError,
  JointReadError,
  applyJointReadChanges,
  coalesceJointReadChanges,
  handOff,
  UpdatePacer,
  type ConferenceResponses,
  type JointReadChange,
  type JointReadPresenter,
  type JointReadSnapshot,
  type JointReadState,
  type Participant,
  type conferenceRequestSchemas,
} from '@telemed/contract';
import type { RequestHandlers } from '@telemed/contract/server';
import {
  requireSeat,
  type ConferenceDependencies,
  type ConferenceSocket,
  type SessionSeat,
} from './conference-participant.ts';
import { JointReadContention } from './joint-read-store.ts';
import { recordForSocket } from './socket-audit.ts';
import { tellForwardingPresenter } from './forwarding-presenter.ts';
import { SeatedConnectionPart } from './connection-part.ts';

/**
 * The joint-read requests of one connection in a session: the presenter's changes (stored in
 * Redis, then sent on to everyone else), presenter hand-off, and load progress per site. The
 * presenter's client already sends at most ~20 batches a second; what reaches the others is
 * held to the same rate here too, batches merged, so a slow site's link carries no more
 * whatever a client does, and the latest state always goes out.
 */

export type JointReadRequestName =
  'jointRead:state' | 'jointRead:change' | 'jointRead:presenter' | 'jointRead:progress';
export type JointReadHandlers = Pick<
  RequestHandlers<typeof conferenceRequestSchemas, ConferenceResponses>,
  JointReadRequestName
>;

/** Accepted changes not yet sent on: from the state at `baseSeq` to the one at `seq`. */
interface HeldUpdate {
  room: string;
  baseSeq: number;
  seq: number;
  changes: JointReadChange[];
}

/** Two held updates join when the second starts where the first ends. */
function joinUpdates(waiting: HeldUpdate, next: HeldUpdate): HeldUpdate | undefined {
  if (waiting.room !== next.room || waiting.seq !== next.baseSeq) return undefined;
  return { ...waiting, seq: next.seq, changes: coalesceJointReadChanges([...waiting.changes, ...next.changes]) };
}

function asPresenter(participant: Participant): JointReadPresenter {
  return {
    participantId: participant.participantId,
    accountId: participant.accountId,
    displayName: participant.displayName,
    siteId: participant.siteId,
  };
}

export class SessionJointRead extends SeatedConnectionPart {
  /**
   * What reaches the others: on average at most 20 batches a second, with a burst of two so that
   * a batch arriving a little early (network jitter) is not held back.
   */
  private readonly broadcasts: UpdatePacer<HeldUpdate>;
  /**
   * This connection's joint-read writes, one after the other: Socket.IO delivers a presenter's
   * batches in order, but their handlers would otherwise run side by side and could apply them
   * out of order (and contend for the same compare-and-set).
   */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(socket: ConferenceSocket, deps: ConferenceDependencies, log: Logger, seat: () => SessionSeat | null) {
    super(socket, deps, log, seat);
    this.broadcasts = new UpdatePacer<HeldUpdate>(
      ({ room, ...update }) => this.socket.to(room).emit('jointRead:update', update),
      joinUpdates,
      { burst: 2 },
    );
  }

  handlers(): JointReadHandlers {
    const store = this.deps.jointRead;
    return {
      'jointRead:state': async () => this.snapshot(requireSeat(this.seat())),
      'jointRead:change': async ({ changes }) => {
        const seat = requireSeat(this.seat());
        const { before, after } = await this.inTurn(() =>
          store.update(seat.sessionId, (current) => {
            if (current.presenter?.participantId !== seat.participant.participantId) {
              throw new JointReadError('forbidden', 'only the presenter changes the shared view');
            }
            return applyJointReadChanges(current, changes);
          }),
        );
        this.broadcasts.push({
          room: seat.room,
          baseSeq: before.seq,
          seq: after.seq,
          changes: coalesceJointReadChanges(changes),
        });
        if (before.view?.seriesInstanceUid !== after.view?.seriesInstanceUid) await this.announceReadiness(seat, after);
        return { seq: after.seq };
      },
      'jointRead:presenter': async (request) => {
        const seat = requireSeat(this.seat());
        const me = asPresenter(seat.participant);
        let target: JointReadPresenter | undefined;
        if (request.action === 'grant') {
          const present = await this.deps.presence.participants(seat.sessionId);
          const found = present.find((entry) => entry.participant.participantId === request.participantId);
          if (!found) throw new ContractError('not_found', 'that participant is not in the session');
          target = asPresenter(found.participant);
        }
        // Changes still held back belong to the presenter before the hand-off: out first.
        this.broadcasts.flush();
        const { before, after } = await this.inTurn(() =>
          store.update(seat.sessionId, (current) => {
            switch (request.action) {
              case 'request':
                return handOff(current, { kind: 'request', by: me });
              case 'release':
                return handOff(current, { kind: 'release', by: me.participantId });
              case 'take':
                return handOff(current, { kind: 'take', by: me, byHost: seat.isHost });
              case 'grant':
                return handOff(current, { kind: 'grant', to: target!, byHost: seat.isHost });
            }
          }),
        );
        if (after !== before) {
          this.socket.nsp.to(seat.room).emit('jointRead:state', after);
          if (before.presenter?.participantId !== after.presenter?.participantId) {
            const presenterId = after.presenter?.participantId ?? null;
            await tellForwardingPresenter(this.deps.sfu, this.log, seat.sessionId, presenterId);
            await recordForSocket(this.deps.audit, this.socket, {
              action: 'joint-read.presenter',
              outcome: 'success',
              target: `session:${seat.sessionId}`,
              sessionId: seat.sessionId,
              detail: {
                request: request.action,
                from: before.presenter?.participantId ?? null,
                to: after.presenter?.participantId ?? null,
              },
            });
          }
        }
        return this.snapshot(seat, after);
      },
      'jointRead:progress': async ({ seriesInstanceUid, loadedImages, totalImages }) => {
        const seat = requireSeat(this.seat());
        await store.setProgress(seat.sessionId, seat.participant.participantId, {
          siteId: seat.participant.siteId,
          seriesInstanceUid,
          loadedImages: Math.min(loadedImages, totalImages),
          totalImages,
        });
        await this.announceReadiness(seat);
        return {};
      },
    };
  }

  /** Sends the changes held back now (the socket is about to be replaced, see ConferenceParticipant.suspend). */
  flushHeld(): void {
    this.broadcasts.flush();
  }

  /**
   * The participant leaves: held-back changes go out, a presenter gives the role up (everyone is
   * told), its progress no longer counts for its site.
   */
  async leave(seat: SessionSeat): Promise<void> {
    this.broadcasts.flush();
    const store = this.deps.jointRead;
    await store.forgetProgress(seat.sessionId, seat.participant.participantId);
    const { before, after } = await store.update(seat.sessionId, (current) =>
      handOff(current, { kind: 'release', by: seat.participant.participantId }),
    );
    if (after !== before) this.socket.nsp.to(seat.room).except(this.socket.id).emit('jointRead:state', after);
    if (before.presenter && !after.presenter)
      await tellForwardingPresenter(this.deps.sfu, this.log, seat.sessionId, null);
    await this.announceReadiness(seat, after, { exceptSelf: true });
  }

  private async snapshot(seat: SessionSeat, known?: JointReadState): Promise<JointReadSnapshot> {
    const state = known ?? (await this.deps.jointRead.get(seat.sessionId));
    return {
      state,
      readiness: await this.deps.jointRead.readiness(seat.sessionId, state.view?.seriesInstanceUid),
      mayHandOff: seat.isHost,
    };
  }

  private async announceReadiness(
    seat: SessionSeat,
    known?: JointReadState,
    options: { exceptSelf?: boolean } = {},
  ): Promise<void> {
    const state = known ?? (await this.deps.jointRead.get(seat.sessionId));
    const sites = await this.deps.jointRead.readiness(seat.sessionId, state.view?.seriesInstanceUid);
    const room = this.socket.nsp.to(seat.room);
    (options.exceptSelf ? room.except(this.socket.id) : room).emit('jointRead:readiness', { sites });
  }

  /** Runs after this connection's earlier writes; domain refusals become typed acks. */
  private async inTurn<T>(work: () => Promise<T>): Promise<T> {
    const turn = this.writes.then(work);
    this.writes = turn.catch(() => undefined);
    try {
      return await turn;
    } catch (error) {
      if (error instanceof JointReadError) throw new ContractError(error.code, error.message);
      if (error instanceof JointReadContention) throw new ContractError('conflict', error.message);
      this.log.error({ err: error }, 'joint-read update failed');
      throw error;
    }
  }
}
