import { observer as mediasoupObserver, type types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RtpParameters } from '@telemed/contract';
import { SessionAdmission, type Session } from '@telemed/domain';
import {
  hangUp,
  joinSession,
  nextEvent,
  request,
  send,
  startConferenceTestSystem,
  type ConferenceClient,
  type ConferenceTestSystem,
} from './conference-test-system.ts';

/**
 * Floor control with the host on one signaling node and the participants on the other: the hand
 * queue in order, the host's mute (checked on the SFU's own producer), removal and readmission,
 * and refusals for everyone else.
 */

const HOUR = 3600_000;
const opus = (ssrc: number): RtpParameters => ({
  mid: '0',
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
  encodings: [{ ssrc }],
});

/** Raw emit, bypassing the typed contract, as a modified client would. */
function emitRaw(client: ConferenceClient, event: string, payload: unknown): Promise<unknown> {
  const raw = client as unknown as {
    timeout(ms: number): { emitWithAck(event: string, payload: unknown): Promise<unknown> };
  };
  return raw.timeout(10_000).emitWithAck(event, payload);
}

/**
 * Resolves once the client is sent this queue (events of earlier changes may still be on their
 * way through the other node, so the next event alone is not enough).
 */
function queueSeen(client: ConferenceClient, participantIds: string[]): Promise<void> {
  return new Promise((resolve) => {
    const listener = ({ hands }: { hands: { participantId: string }[] }) => {
      if (JSON.stringify(hands.map((hand) => hand.participantId)) !== JSON.stringify(participantIds)) return;
      client.off('floor:hands', listener);
      resolve();
    };
    client.on('floor:hands', listener);
  });
}

describe('floor control across two signaling nodes', () => {
  let system: ConferenceTestSystem;
  /** Every producer the SFU (in this process) creates: its own state is what a mute must change. */
  const sfuProducers = new Map<string, types.Producer>();

  beforeAll(async () => {
    mediasoupObserver.on('newworker', (worker) =>
      worker.observer.on('newrouter', (router) =>
        router.observer.on('newtransport', (transport) =>
          transport.observer.on('newproducer', (producer) => sfuProducers.set(producer.id, producer)),
        ),
      ),
    );
    system = await startConferenceTestSystem({ signalingNodes: 2, recheckMs: 300 });
  });
  afterAll(async () => {
    await system?.close();
  });

  const liveSession = (): Promise<Session> =>
    system.schedule({ startsInMs: -HOUR, endsInMs: HOUR, invitedSiteIds: ['aoshima', 'kuroshio'] });

  /** tanaka (the host) on node 0, sato on node 1, suzuki on node 0, all in a new live session. */
  async function call() {
    const session = await liveSession();
    const tanaka = await system.connect('tanaka', { node: 0 });
    const sato = await system.connect('sato', { node: 1 });
    const suzuki = await system.connect('suzuki', { node: 0 });
    const tanakaSeat = await joinSession(tanaka, session.id);
    const satoSeat = await joinSession(sato, session.id);
    const suzukiSeat = await joinSession(suzuki, session.id);
    return {
      session,
      tanaka,
      sato,
      suzuki,
      tanakaId: tanakaSeat.self.participantId,
      satoId: satoSeat.self.participantId,
      suzukiId: suzukiSeat.self.participantId,
      close: () => hangUp(tanaka, sato, suzuki),
    };
  }

  const auditOf = async (sessionId: string, action: string) =>
    (await system.recentAudit(200)).filter((entry) => entry.sessionId === sessionId && entry.action === action);

  it('queues raised hands first come first for everyone, and a participant leaving drops out', async () => {
    const { session, tanaka, sato, suzuki, satoId, suzukiId, close } = await call();
    expect(await request(tanaka, 'floor:state', {})).toEqual({ hands: [], mayControl: true });
    expect(await request(sato, 'floor:state', {})).toEqual({ hands: [], mayControl: false });

    const first = queueSeen(tanaka, [satoId]);
    await request(sato, 'floor:hand', { raised: true });
    await first;
    const second = queueSeen(tanaka, [satoId, suzukiId]);
    const seenBySato = queueSeen(sato, [satoId, suzukiId]);
    await request(suzuki, 'floor:hand', { raised: true });
    await Promise.all([second, seenBySato]);
    // Raising again keeps one's place; lowering and raising again goes to the back.
    expect((await request(sato, 'floor:hand', { raised: true })).hands.map((hand) => hand.participantId)).toEqual([
      satoId,
      suzukiId,
    ]);
    await request(sato, 'floor:hand', { raised: false });
    const requeued = await request(sato, 'floor:hand', { raised: true });
    expect(requeued.hands.map((hand) => hand.participantId)).toEqual([suzukiId, satoId]);
    expect(Date.parse(requeued.hands[0]!.raisedAt)).toBeLessThanOrEqual(Date.parse(requeued.hands[1]!.raisedAt));

    // The host lowers a hand; everyone sees the queue without it.
    const lowered = queueSeen(suzuki, [satoId]);
    expect((await request(tanaka, 'floor:lower-hand', { participantId: suzukiId })).hands).toHaveLength(1);
    await lowered;
    expect(await auditOf(session.id, 'floor.hand-lowered')).toMatchObject([
      { outcome: 'success', target: `account:${await system.accountId('suzuki')}` },
    ]);

    const gone = queueSeen(tanaka, []);
    sato.close();
    await gone;
    await close();
  });

  it('refuses floor control to everyone but the host, and audits each refusal', async () => {
    const { session, tanaka, sato, suzukiId, close } = await call();
    expect((await request(tanaka, 'floor:state', {})).mayControl).toBe(true);
    for (const name of ['floor:lower-hand', 'floor:mute', 'floor:remove'] as const) {
      expect(await send(sato, name, { participantId: suzukiId })).toMatchObject({
        ok: false,
        error: { code: 'forbidden' },
      });
    }
    const denied = (await system.recentAudit(50)).filter(
      (entry) => entry.sessionId === session.id && entry.outcome === 'denied',
    );
    expect(denied.map((entry) => entry.action).sort()).toEqual(['floor.hand-lowered', 'floor.muted', 'floor.removed']);
    expect(denied.every((entry) => entry.actorAccountId === denied[0]!.actorAccountId)).toBe(true);
    await close();
  });

  it('mutes a microphone on the SFU and tells its owner; only the owner unmutes', async () => {
    const { session, tanaka, sato, suzuki, satoId, suzukiId, close } = await call();
    const transport = await request(sato, 'transport:create', { direction: 'send' });
    const { producerId } = await request(sato, 'producer:create', {
      transportId: transport.id,
      kind: 'audio',
      source: 'microphone',
      rtpParameters: opus(7001),
    });
    expect(sfuProducers.get(producerId)?.paused).toBe(false);

    const told = nextEvent(sato, 'floor:muted');
    const seen = nextEvent(suzuki, 'producer:paused');
    await request(tanaka, 'floor:mute', { participantId: satoId });
    expect(await told).toEqual({ sessionId: session.id });
    expect(await seen).toEqual({ producerId, participantId: satoId, paused: true });
    await expect.poll(() => sfuProducers.get(producerId)?.paused).toBe(true);
    expect(await auditOf(session.id, 'floor.muted')).toMatchObject([
      { outcome: 'success', target: `account:${await system.accountId('sato')}`, detail: { participantId: satoId } },
    ]);

    // The host has no way to turn it back on: not the producer's own request, not an invented one.
    expect(await send(tanaka, 'producer:resume', { producerId })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    expect(await emitRaw(tanaka, 'floor:unmute', { participantId: satoId })).toMatchObject({
      ok: false,
      error: { code: 'unknown_event' },
    });
    expect(sfuProducers.get(producerId)?.paused).toBe(true);

    // The participant does.
    await request(sato, 'producer:resume', { producerId });
    expect(sfuProducers.get(producerId)?.paused).toBe(false);

    // Nothing to mute: a participant without a microphone, or one not in the session.
    expect(await send(tanaka, 'floor:mute', { participantId: suzukiId })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    expect(await send(tanaka, 'floor:mute', { participantId: crypto.randomUUID() })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    await close();
  });

  it('removes a participant, who comes back only when the host admits them again', async () => {
    const { session, tanaka, suzuki, tanakaId, suzukiId, close } = await call();
    const ended = nextEvent(suzuki, 'session:ended');
    const left = nextEvent(tanaka, 'participant:left');
    await request(tanaka, 'floor:remove', { participantId: suzukiId });
    expect(await ended).toEqual({ sessionId: session.id, reason: 'removed' });
    expect(await left).toEqual({ participantId: suzukiId, reason: 'removed' });
    const suzukiAccount = await system.accountId('suzuki');
    expect(await auditOf(session.id, 'floor.removed')).toMatchObject([
      { outcome: 'success', target: `account:${suzukiAccount}`, detail: { participantId: suzukiId } },
    ]);
    await expect
      .poll(async () => (await auditOf(session.id, 'conference.left')).map((entry) => entry.detail?.reason))
      .toContain('removed');

    // Invited, but removed: refused, and knocking waits for the host.
    const back = await system.connect('suzuki', { node: 1 });
    expect(await send(back, 'session:capabilities', { sessionId: session.id })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    const waiting = nextEvent(tanaka, 'lobby:waiting');
    expect(await request(back, 'lobby:knock', { sessionId: session.id })).toEqual({ status: 'waiting' });
    expect((await waiting).waiting.map((guest) => guest.accountId)).toEqual([suzukiAccount]);
    const decided = nextEvent(back, 'lobby:decision');
    await request(tanaka, 'lobby:admit', { sessionId: session.id, accountId: suzukiAccount });
    expect(await decided).toEqual({ sessionId: session.id, decision: 'admitted' });
    expect((await joinSession(back, session.id)).self.displayName).toBe('鈴木 健');

    expect((await request(back, 'floor:state', {})).mayControl).toBe(false);
    // The host cannot remove their own account.
    expect(await send(tanaka, 'floor:remove', { participantId: tanakaId })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    await hangUp(back);
    await close();
  });

  it('removes a participant whose node missed the news at its next re-check', async () => {
    const { session, suzuki, close } = await call();
    const ended = nextEvent(suzuki, 'session:ended');
    // Stored as the host's removal is, without the event that normally carries it at once.
    await new SessionAdmission(system.redis, { warn: () => undefined }).remove(
      session,
      await system.accountId('suzuki'),
    );
    expect(await ended).toEqual({ sessionId: session.id, reason: 'removed' });
    await close();
  });
});
