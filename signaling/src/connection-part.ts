import type { Logger } from 'pino';
import type { ConferenceDependencies, ConferenceSocket, SessionSeat } from './conference-participant.ts';

/**
 * One concern of a browser connection — its waiting-room knocks, connectivity probes, chat,
 * floor, joint read, media control, TURN relay — with what each needs: the socket, this node's
 * dependencies and the connection's logger. ConferenceParticipant composes them and merges their
 * request handlers.
 */
export abstract class ConnectionPart {
  protected readonly socket: ConferenceSocket;
  protected readonly deps: ConferenceDependencies;
  protected readonly log: Logger;

  constructor(socket: ConferenceSocket, deps: ConferenceDependencies, log: Logger) {
    this.socket = socket;
    this.deps = deps;
    this.log = log;
  }
}

/** A concern of a connection that acts within the session the connection is in (see `requireSeat`). */
export abstract class SeatedConnectionPart extends ConnectionPart {
  /** The connection's seat now: null until it joins and after it leaves. */
  protected readonly seat: () => SessionSeat | null;

  constructor(socket: ConferenceSocket, deps: ConferenceDependencies, log: Logger, seat: () => SessionSeat | null) {
    super(socket, deps, log);
    this.seat = seat;
  }
}
