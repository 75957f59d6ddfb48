import type { z } from 'zod';
import { ContractError, describeZodError, fail, ok, type Ack } from './ack.ts';

/**
 * The server side of a request contract: every incoming event is checked against the
 * contract's schemas and answered with exactly one ack. Bad input, unknown events and failing
 * handlers become error acks; nothing thrown here can reach the process.
 *
 * Written here rather than taken from a library because it is the glue between Socket.IO's
 * catch-all listener and this project's own contract and ack shape.
 */

/** The part of a Socket.IO server socket the dispatcher uses. */
export interface IncomingEvents {
  onAny(listener: (event: string, ...args: unknown[]) => void): unknown;
}

export type RequestHandlers<
  Schemas extends Record<string, z.ZodType>,
  Responses extends { [N in keyof Schemas]: unknown },
> = {
  [N in keyof Schemas]: (payload: z.infer<Schemas[N]>) => Promise<Responses[N]>;
};

export interface DispatchObserver {
  /** A handler failed with something other than a ContractError (a bug or an outage). */
  onUnexpectedError(event: string, error: unknown): void;
  /** An event arrived without an ack callback, so it could not be answered. */
  onUnanswerable?(event: string): void;
}

export function dispatchRequests<
  Schemas extends Record<string, z.ZodType>,
  Responses extends { [N in keyof Schemas]: unknown },
>(
  socket: IncomingEvents,
  schemas: Schemas,
  handlers: RequestHandlers<Schemas, Responses>,
  observer: DispatchObserver,
): void {
  socket.onAny((event: string, ...args: unknown[]) => {
    const ack = args.at(-1);
    if (typeof ack !== 'function') {
      observer.onUnanswerable?.(event);
      return;
    }
    const answer = ack as (response: Ack<unknown>) => void;
    void answerRequest(event, args.length > 1 ? args[0] : undefined).then(answer, (error: unknown) => {
      observer.onUnexpectedError(event, error);
    });
  });

  async function answerRequest(event: string, payload: unknown): Promise<Ack<unknown>> {
    if (!Object.hasOwn(schemas, event)) return fail('unknown_event', `unknown event "${event.slice(0, 64)}"`);
    const name = event as keyof Schemas & string;
    const parsed = schemas[name]!.safeParse(payload);
    if (!parsed.success) return fail('invalid_payload', `${name}: ${describeZodError(parsed.error)}`);
    try {
      return ok(await handlers[name](parsed.data as z.infer<Schemas[typeof name]>));
    } catch (error) {
      if (error instanceof ContractError) return fail(error.code, error.message);
      observer.onUnexpectedError(name, error);
      return fail('internal', 'internal error');
    }
  }
}
