import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ackErrorSchema, conferenceRequestNames } from '@telemed/contract';
import { DEMO_SESSION_ID } from '@telemed/domain';
import {
  joinDemo,
  request,
  startConferenceTestSystem,
  type ConferenceClient,
  type ConferenceTestSystem,
} from './conference-test-system.ts';

/** Any ack the contract allows: success with data, or one of the typed errors. */
function isContractAck(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const ack = value as { ok?: unknown; data?: unknown; error?: unknown };
  if (ack.ok === true) return 'data' in ack;
  return ack.ok === false && ackErrorSchema.safeParse(ack.error).success;
}

/** Raw emit, bypassing the typed contract, as a hostile or broken client would. */
function emitRaw(client: ConferenceClient, event: string, ...args: unknown[]): Promise<unknown> {
  const raw = client as unknown as {
    timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };
  };
  return raw.timeout(5000).emitWithAck(event, ...args);
}

/** Payloads shaped like the real ones (right keys), with anything as values, plus plain junk. */
const payloads = fc.oneof(
  fc.anything({ withObjectString: true, withNullPrototype: true, maxDepth: 3 }),
  fc.record(
    {
      sessionId: fc.oneof(fc.constant(DEMO_SESSION_ID), fc.uuid(), fc.string()),
      direction: fc.oneof(fc.constantFrom('send', 'recv'), fc.anything()),
      transportId: fc.oneof(fc.uuid(), fc.string({ maxLength: 100 })),
      producerId: fc.oneof(fc.uuid(), fc.string({ maxLength: 100 })),
      consumerId: fc.oneof(fc.uuid(), fc.string({ maxLength: 100 })),
      accountId: fc.oneof(fc.uuid(), fc.string({ maxLength: 100 })),
      kind: fc.oneof(fc.constantFrom('audio', 'video'), fc.anything()),
      source: fc.oneof(fc.constantFrom('microphone', 'camera', 'screen', 'screen-audio'), fc.anything()),
      spatialLayer: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.anything()),
      allowMultiple: fc.oneof(fc.boolean(), fc.anything()),
      participantId: fc.oneof(fc.uuid(), fc.string({ maxLength: 100 })),
      text: fc.oneof(fc.string({ maxLength: 1200 }), fc.anything()),
      studyInstanceUid: fc.oneof(fc.constantFrom('1.2.3', '1..2'), fc.string({ maxLength: 80 })),
      beforeSeq: fc.oneof(fc.integer(), fc.anything()),
      raised: fc.oneof(fc.boolean(), fc.anything()),
      rtpParameters: fc.anything({ maxDepth: 3 }),
      rtpCapabilities: fc.anything({ maxDepth: 3 }),
      dtlsParameters: fc.anything({ maxDepth: 3 }),
      __proto__: fc.anything({ maxDepth: 2 }),
      constructor: fc.anything({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
  ),
);

describe('signaling under malformed and hostile input', () => {
  let system: ConferenceTestSystem;

  beforeAll(async () => {
    system = await startConferenceTestSystem();
  });
  afterAll(async () => {
    await system?.close();
  });

  const idOf = async (username: string) => (await system.accounts.findByUsername(username))!.id;

  it.each([
    ['before joining', false],
    ['while joined', true],
  ])('answers every event with a contract ack and stays up (%s)', async (_label, joined) => {
    const client = await system.connect('tanaka');
    if (joined) {
      await joinDemo(client);
      await request(client, 'transport:create', { direction: 'recv' });
    }
    const events = fc.oneof(fc.constantFrom(...conferenceRequestNames), fc.string({ maxLength: 40 }));
    await fc.assert(
      fc.asyncProperty(events, payloads, async (event, payload) => {
        // session:join/leave would change the state under test; they get their own checks.
        if (joined && (event === 'session:leave' || event === 'session:join')) return;
        expect(isContractAck(await emitRaw(client, event, payload))).toBe(true);
      }),
      { numRuns: 400 },
    );
    // Extra arguments, missing payloads, no ack at all: still answered or ignored, never fatal.
    expect(isContractAck(await emitRaw(client, 'transport:create'))).toBe(true);
    expect(isContractAck(await emitRaw(client, 'transport:create', { direction: 'send' }, 'extra'))).toBe(true);
    (client as unknown as { emit(event: string, payload: unknown): void }).emit('session:join', { sessionId: 1 });

    expect(client.connected).toBe(true);
    // The connection still works for real requests.
    const answer = await emitRaw(client, 'session:capabilities', { sessionId: DEMO_SESSION_ID });
    expect(answer).toMatchObject({ ok: true });
    client.close();
  });

  it.each(['tanaka', 'yamada'])('answers well-formed waiting-room requests with contract acks (as %s)', async (who) => {
    if (who === 'yamada' && !(await system.accounts.findByUsername('yamada'))) {
      await system.accounts.create({
        username: 'yamada',
        password: 'yamada-password',
        displayName: '山田 太郎',
        siteId: 'kuroshio',
        roles: ['site-doctor'],
      });
    }
    const client = await system.connect(who);
    const lobbyEvents = conferenceRequestNames.filter((name) => name.startsWith('lobby:'));
    expect(lobbyEvents).toHaveLength(5);
    const shaped = fc.record(
      {
        sessionId: fc.oneof(fc.constant(DEMO_SESSION_ID), fc.uuid()),
        accountId: fc.oneof(fc.uuid(), fc.constantFrom(...(await Promise.all(['sato', 'suzuki'].map(idOf))))),
      },
      { requiredKeys: ['sessionId'] },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...lobbyEvents), shaped, async (event, payload) => {
        expect(isContractAck(await emitRaw(client, event, payload))).toBe(true);
      }),
      { numRuns: 200 },
    );
    expect(client.connected).toBe(true);
    client.close();
  });

  it('drops an oversized message without harming anyone else', async () => {
    const attacker = await system.connect('sato');
    const bystander = await system.connect('suzuki');
    const closed = new Promise((resolve) => attacker.once('disconnect', resolve));
    void emitRaw(attacker, 'session:capabilities', { sessionId: 'x'.repeat(200_000) }).catch(() => undefined);
    await closed;
    expect(bystander.connected).toBe(true);
    const answer = await emitRaw(bystander, 'session:capabilities', { sessionId: DEMO_SESSION_ID });
    expect(answer).toMatchObject({ ok: true });
    bystander.close();
  });
});
