import {
  ContractError,
  type ConferenceResponses,
  type RaisedHand,
  type conferenceRequestSchemas,
} from '@telemed/contract';
import type { RequestHandlers } from '@telemed/contract/server';
import { mayControlFloor, type Session } from '@telemed/domain';
import { requireSeat, roomOf, type SessionSeat } from './conference-participant.ts';
import type { Presence } from './conference-presence.ts';
import { recordForSocket, type SocketAuditEntry } from './socket-audit.ts';
import { SeatedConnectionPart } from './connection-part.ts';

/**
 * The floor-control requests of one connection in a session: raising and lowering one's own
 * hand (a queue in Redis, see RaisedHands, that everyone in the room sees), and the host's
 * decisions — lower a hand, mute a microphone, remove a participant — each checked against the
 * stored session and account (not what was true at joining), and audited, refusals too.
 *
 * A mute or a removal must act where the participant is connected, which may be another
 * signaling node: it travels as a domain event, and the node holding the participant pauses
 * its microphone on the SFU (the SFU lets only that node touch its media) or ends its call. The
 * removal itself is stored first (SessionAdmission), so a node that missed the event still
 * removes the participant at its next re-check, and the account cannot join again.
 */

export type FloorRequestName = 'floor:state' | 'floor:hand' | 'floor:lower-hand' | 'floor:mute' | 'floor:remove';
export type FloorHandlers = Pick<
  RequestHandlers<typeof conferenceRequestSchemas, ConferenceResponses>,
  FloorRequestName
>;

const HOST_ONLY = 'only the host controls the floor';

export class SessionFloor extends SeatedConnectionPart {
  handlers(): FloorHandlers {
    const { hands } = this.deps;
    return {
      'floor:state': async () => {
        const seat = requireSeat(this.seat());
        const [list, host] = await Promise.all([hands.list(seat.sessionId), this.controlsFloor(seat)]);
        return { hands: list, mayControl: host !== null };
      },
      'floor:hand': async ({ raised }) => {
        const seat = requireSeat(this.seat());
        const { sessionId, participant } = seat;
        const changed = raised
          ? await hands.raise(sessionId, participant.participantId)
          : await hands.lower(sessionId, participant.participantId);
        return { hands: await this.announce(seat, changed) };
      },
      'floor:lower-hand': async ({ participantId }) => {
        const seat = requireSeat(this.seat());
        await this.requireHost(seat, 'floor.hand-lowered', participantId);
        const changed = await hands.lower(seat.sessionId, participantId);
        if (changed) await this.audit(seat, 'floor.hand-lowered', participantId, await this.find(seat, participantId));
        return { hands: await this.announce(seat, changed) };
      },
      'floor:mute': async ({ participantId }) => {
        const seat = requireSeat(this.seat());
        await this.requireHost(seat, 'floor.muted', participantId);
        const target = await this.present(seat, participantId);
        const producers = await this.deps.presence.producers(seat.sessionId);
        const microphone = producers.find(
          (producer) => producer.participantId === participantId && producer.source === 'microphone',
        );
        if (!microphone) throw new ContractError('not_found', 'that participant sends no microphone');
        if (!microphone.paused) {
          await this.deps.publish({ type: 'participant.muted', sessionId: seat.sessionId, participantId });
        }
        await this.audit(seat, 'floor.muted', participantId, target, { alreadyMuted: microphone.paused });
        this.log.info({ sessionId: seat.sessionId, participantId }, 'host muted a participant');
        return {};
      },
      'floor:remove': async ({ participantId }) => {
        const seat = requireSeat(this.seat());
        const session = await this.requireHost(seat, 'floor.removed', participantId);
        const target = await this.present(seat, participantId);
        if (target.participant.accountId === seat.participant.accountId) {
          throw new ContractError('conflict', 'the host cannot remove their own account; leave instead');
        }
        // Stored before anyone is told: from here on the account cannot join, whatever a node missed.
        await this.deps.admission.remove(session, target.participant.accountId);
        await this.audit(seat, 'floor.removed', participantId, target);
        await this.deps.publish({
          type: 'participant.removed',
          sessionId: seat.sessionId,
          accountId: target.participant.accountId,
        });
        this.log.info({ sessionId: seat.sessionId, participantId }, 'host removed a participant');
        return {};
      },
    };
  }

  /** The participant leaves the session: its hand goes down, and everyone else sees the queue without it. */
  async leave(seat: SessionSeat): Promise<void> {
    await this.dropHand(seat.sessionId, seat.participant.participantId, { exceptSelf: true });
  }

  /** A participant gone without a goodbye (its node went away) leaves the queue too. */
  async dropHand(sessionId: string, participantId: string, options: { exceptSelf?: boolean } = {}): Promise<void> {
    if (!(await this.deps.hands.lower(sessionId, participantId))) return;
    const hands = await this.deps.hands.list(sessionId);
    const room = this.socket.nsp.to(roomOf(sessionId));
    (options.exceptSelf ? room.except(this.socket.id) : room).emit('floor:hands', { hands });
  }

  /** The queue now; when it changed, everyone else in the room is sent it too. */
  private async announce(seat: SessionSeat, changed: boolean): Promise<RaisedHand[]> {
    const hands = await this.deps.hands.list(seat.sessionId);
    if (changed) this.socket.to(seat.room).emit('floor:hands', { hands });
    return hands;
  }

  /** The stored session when this connection's account controls its floor now, else null. */
  private async controlsFloor(seat: SessionSeat): Promise<Session | null> {
    const [account, session] = await Promise.all([
      this.deps.accounts.get(seat.participant.accountId),
      this.deps.sessions.get(seat.sessionId),
    ]);
    return account && session && mayControlFloor(account, session) ? session : null;
  }

  private async requireHost(seat: SessionSeat, action: string, participantId: string): Promise<Session> {
    const session = await this.controlsFloor(seat);
    if (session) return session;
    await this.record(seat, {
      action,
      outcome: 'denied',
      target: `session:${seat.sessionId}`,
      detail: { participantId },
    });
    throw new ContractError('forbidden', HOST_ONLY);
  }

  private async find(seat: SessionSeat, participantId: string): Promise<Presence | undefined> {
    const present = await this.deps.presence.participants(seat.sessionId);
    return present.find((entry) => entry.participant.participantId === participantId);
  }

  private async present(seat: SessionSeat, participantId: string): Promise<Presence> {
    const target = await this.find(seat, participantId);
    if (!target) throw new ContractError('not_found', 'that participant is not in the session');
    return target;
  }

  private audit(
    seat: SessionSeat,
    action: string,
    participantId: string,
    target?: Presence,
    detail: Record<string, unknown> = {},
  ): Promise<void> {
    return this.record(seat, {
      action,
      outcome: 'success',
      target: target ? `account:${target.participant.accountId}` : `session:${seat.sessionId}`,
      detail: { participantId, ...(target ? { displayName: target.participant.displayName } : {}), ...detail },
    });
  }

  private record(seat: SessionSeat, entry: Omit<SocketAuditEntry, 'sessionId'>): Promise<void> {
    return recordForSocket(this.deps.audit, this.socket, { ...entry, sessionId: seat.sessionId });
  }
}
