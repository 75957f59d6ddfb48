import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ContractError, type Ack } from './ack.ts';
import { dispatchRequests, type IncomingEvents } from './request-dispatch.ts';

const schemas = {
  echo: z.strictObject({ text: z.string().max(10) }),
  explode: z.strictObject({}),
  refuse: z.strictObject({}),
};
interface Responses {
  echo: { text: string };
  explode: never;
  refuse: never;
}

/** The dispatcher's view of a socket: one catch-all listener, fed events by the test. */
function harness() {
  let listener: ((event: string, ...args: unknown[]) => void) | undefined;
  const socket: IncomingEvents = { onAny: (fn) => (listener = fn) };
  const unexpected: string[] = [];
  dispatchRequests<typeof schemas, Responses>(
    socket,
    schemas,
    {
      echo: async ({ text }) => ({ text }),
      explode: async () => {
        throw new Error('boom');
      },
      refuse: async () => {
        throw new ContractError('forbidden', 'not yours');
      },
    },
    { onUnexpectedError: (event) => unexpected.push(event) },
  );
  const send = (event: string, ...args: unknown[]) =>
    new Promise<Ack<unknown>>((resolve) => listener!(event, ...args, resolve));
  return { send, unexpected, raw: (event: string, ...args: unknown[]) => listener!(event, ...args) };
}

describe('dispatchRequests', () => {
  it('answers a valid request with its data', async () => {
    const { send } = harness();
    expect(await send('echo', { text: 'こんにちは' })).toEqual({ ok: true, data: { text: 'こんにちは' } });
  });

  it('answers bad payloads with invalid_payload naming the field', async () => {
    const { send } = harness();
    for (const payload of [undefined, null, 'text', { text: 5 }, { text: 'x'.repeat(11) }, { text: 'a', extra: 1 }]) {
      const ack = await send('echo', payload);
      expect(ack.ok).toBe(false);
      if (!ack.ok) expect(ack.error.code).toBe('invalid_payload');
    }
    const ack = await send('echo', { text: 5 });
    expect(!ack.ok && ack.error.message).toContain('text');
  });

  it('answers unknown events, including prototype names, with unknown_event', async () => {
    const { send } = harness();
    for (const event of ['nope', '__proto__', 'constructor', 'toString']) {
      expect(await send(event, {})).toMatchObject({ ok: false, error: { code: 'unknown_event' } });
    }
  });

  it('passes ContractErrors through and hides other failures as internal', async () => {
    const { send, unexpected } = harness();
    expect(await send('refuse', {})).toEqual({ ok: false, error: { code: 'forbidden', message: 'not yours' } });
    expect(await send('explode', {})).toEqual({ ok: false, error: { code: 'internal', message: 'internal error' } });
    expect(unexpected).toEqual(['explode']);
  });

  it('ignores events that carry no ack callback', () => {
    const { raw } = harness();
    expect(() => raw('echo', { text: 'a' })).not.toThrow();
    expect(() => raw('echo')).not.toThrow();
  });
});
