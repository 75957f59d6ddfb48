import { z } from 'zod';

/**
 * Every request that crosses a socket (browser → signaling, signaling → SFU) is answered with
 * one of these two shapes, never with a thrown error or silence.
 */
export const errorCodes = [
  /** No or an invalid access token. */
  'unauthenticated',
  /** Authenticated, but this account may not do this (e.g. not invited to the session). */
  'forbidden',
  /** The payload did not match the event's schema. */
  'invalid_payload',
  /** The event name is not part of the contract. */
  'unknown_event',
  /** The addressed session, transport, producer or consumer does not exist (any more). */
  'not_found',
  /** The request is valid but does not fit the current state (e.g. not joined yet). */
  'conflict',
  /** Too many requests of this kind in a short time (e.g. chat messages); try again shortly. */
  'rate_limited',
  /** A bounded store is full (e.g. a session's chat); nothing was dropped to make room. */
  'limit_reached',
  /** The media server did not answer or refused. */
  'sfu_unavailable',
  /** Anything else; details are in the server log, never in the message. */
  'internal',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface AckError {
  code: ErrorCode;
  message: string;
}

export type Ack<T> = { ok: true; data: T } | { ok: false; error: AckError };

export const ackErrorSchema = z.object({
  code: z.enum(errorCodes),
  message: z.string(),
});

export function ok<T>(data: T): Ack<T> {
  return { ok: true, data };
}

export function fail(code: ErrorCode, message: string): Ack<never> {
  return { ok: false, error: { code, message } };
}

/** An error that carries an error code to the ack; anything else becomes `internal`. */
export class ContractError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'ContractError';
    this.code = code;
  }
}

/** Turns a zod failure into one readable line: `field.path: problem; other: problem`. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(payload)'}: ${issue.message}`)
    .join('; ');
}

/** The data of a successful ack; a failed ack becomes a thrown `ContractError`. */
export function unwrapAck<T>(ack: Ack<T>): T {
  if (ack.ok) return ack.data;
  throw new ContractError(ack.error.code, ack.error.message);
}
