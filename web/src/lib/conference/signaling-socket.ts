import { io, type Socket } from 'socket.io-client';
import {
  ContractError,
  unwrapAck,
  type Ack,
  type ConferenceClientEvents,
  type ConferenceNotifications,
  type ConferenceRequest,
  type ConferenceRequestName,
  type ConferenceResponses,
} from '@telemed/contract';

/**
 * The browser's connection to signaling, shared by the room and the waiting-room page: a fresh
 * short-lived access token for every connection attempt, fetched with the sign-in cookie, and
 * typed requests answered by the contract's acks. Browser-only.
 */

export type SignalingSocket = Socket<ConferenceNotifications, ConferenceClientEvents>;

/** A typed request over the call's socket (the room's `sendRequest` bound to it), as its parts use it. */
export type SignalingRequest = <N extends ConferenceRequestName>(
  name: N,
  payload: ConferenceRequest<N>,
) => Promise<ConferenceResponses[N]>;

const REQUEST_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 15_000;

/** How long a reconnecting socket waits at most between attempts. */
const RECONNECT_DELAY_MAX_MS = 5_000;

/**
 * Opens a socket; `beforeConnect` registers listeners before anything can arrive. Resolves once
 * connected, rejects when the server refuses or cannot be reached. With `reconnect` (a call), a
 * socket that drops reconnects by itself, with a fresh token, until closed; the call then
 * resumes its participant (see RoomRecovery).
 */
export async function openSignalingSocket(
  url: string,
  beforeConnect: (socket: SignalingSocket) => void = () => undefined,
  options: { reconnect?: boolean } = {},
): Promise<SignalingSocket> {
  const socket: SignalingSocket = io(url, {
    transports: ['websocket'],
    auth: (callback) => {
      fetch('/api/signaling-token', { credentials: 'same-origin' })
        .then((response) => (response.ok ? (response.json() as Promise<{ token: string }>) : { token: '' }))
        .then(
          ({ token }) => callback({ token }),
          () => callback({ token: '' }),
        );
    },
    reconnection: options.reconnect ?? false,
    reconnectionDelayMax: RECONNECT_DELAY_MAX_MS,
    timeout: CONNECT_TIMEOUT_MS,
  });
  beforeConnect(socket);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (error) => reject(error));
    });
  } catch (error) {
    socket.disconnect();
    throw error;
  }
  return socket;
}

/** Sends a request and returns its data; an error ack becomes a thrown `ContractError`. */
export async function sendRequest<N extends ConferenceRequestName>(
  socket: SignalingSocket | null,
  name: N,
  payload: ConferenceRequest<N>,
): Promise<ConferenceResponses[N]> {
  if (!socket?.connected) throw new ContractError('conflict', 'not connected');
  const timed = socket.timeout(REQUEST_TIMEOUT_MS);
  // The contract ties each request name to its payload and response; Socket.IO's typings
  // cannot follow that through a generic name, hence the narrowed signature.
  const emit = timed.emitWithAck as (event: N, payload: ConferenceRequest<N>) => Promise<Ack<ConferenceResponses[N]>>;
  return unwrapAck(await emit.call(timed, name, payload));
}
