import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConferenceNotifications } from '@telemed/contract';
import { DEMO_SESSION_ID } from '@telemed/domain';
import {
  cutConnection,
  hangUp,
  joinDemo,
  nextEvent,
  request,
  send,
  startConferenceTestSystem,
  type ConferenceClient,
  type ConferenceTestSystem,
} from './conference-test-system.ts';

/**
 * Resuming a participant after its socket dropped, with a real SFU and Redis on two signaling
 * nodes: suspended (never left) while the link is away, taken over by the browser's next socket
 * with the same participant, hand and presenter role; refused for a wrong token, another account
 * or another node; removed with the reason `connection-lost` once the grace period is over.
 */

const GRACE_MS = 4_000;

/** Every event of that name the client receives from now on. */
function collect<E extends keyof ConferenceNotifications>(client: ConferenceClient, event: E) {
  const seen: Parameters<ConferenceNotifications[E]>[0][] = [];
  client.on(event, ((payload: Parameters<ConferenceNotifications[E]>[0]) => seen.push(payload)) as never);
  return seen;
}

/** Resolves with the first event of that name that passes the check. */
function eventWhere<E extends keyof ConferenceNotifications>(
  client: ConferenceClient,
  event: E,
  check: (payload: Parameters<ConferenceNotifications[E]>[0]) => boolean,
): Promise<Parameters<ConferenceNotifications[E]>[0]> {
  return new Promise((resolve) => {
    const listener = (payload: Parameters<ConferenceNotifications[E]>[0]) => {
      if (!check(payload)) return;
      client.off(event, listener as never);
      resolve(payload);
    };
    client.on(event, listener as never);
  });
}

describe('call recovery', () => {
  let system: ConferenceTestSystem;

  beforeAll(async () => {
    system = await startConferenceTestSystem({ signalingNodes: 2, resumeGraceMs: GRACE_MS });
  });
  afterAll(async () => {
    await system?.close();
  });

  it('suspends a dropped participant and resumes it with its hand, presenter role and media', async () => {
    const tanaka = await system.connect('tanaka');
    const sato = await system.connect('sato');
    await joinDemo(tanaka);
    const joined = await joinDemo(sato);
    const participantId = joined.self.participantId;
    await request(sato, 'floor:hand', { raised: true });
    expect((await request(sato, 'jointRead:presenter', { action: 'request' })).state.presenter?.participantId).toBe(
      participantId,
    );
    const transport = await request(sato, 'transport:create', { direction: 'send' });
    const { producerId } = await request(sato, 'producer:create', {
      transportId: transport.id,
      kind: 'audio',
      source: 'microphone',
      rtpParameters: {
        mid: '0',
        codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc: 4242 }],
      },
    });
    const toldLink = nextEvent(tanaka, 'participant:link');
    await request(sato, 'link:level', { level: 'others-paused' });
    await toldLink;
    const left = collect(tanaka, 'participant:left');
    const removed = collect(tanaka, 'producer:removed');
    const links = collect(tanaka, 'participant:link');

    const suspended = nextEvent(tanaka, 'participant:suspended');
    cutConnection(sato);
    expect(await suspended).toEqual({ participantId, graceMs: GRACE_MS });
    const presence = await system.redis.hGet(`conference:${DEMO_SESSION_ID}:participants`, participantId);
    expect(JSON.parse(presence!)).toHaveProperty('suspendedAt');

    const again = await system.connect('sato');
    const resumedEvent = nextEvent(tanaka, 'participant:resumed');
    const resumed = await request(again, 'session:resume', {
      sessionId: DEMO_SESSION_ID,
      participantId,
      resumeToken: joined.resumeToken,
    });
    expect(await resumedEvent).toEqual({ participantId });
    expect(resumed.self.participantId).toBe(participantId);
    expect(resumed.ownProducerIds).toEqual([producerId]);
    expect(resumed.participants.map((other) => other.displayName)).toEqual(['田中 一郎']);
    expect(resumed.resumeToken).not.toBe(joined.resumeToken);
    // The same hand, the same presenter role, the same media, from the new socket.
    expect((await request(again, 'floor:state', {})).hands.map((hand) => hand.participantId)).toEqual([participantId]);
    expect((await request(again, 'jointRead:state', {})).state.presenter?.participantId).toBe(participantId);
    expect(await request(again, 'producer:pause', { producerId })).toEqual({});
    // The same link level: a climb back to full from the new socket is news to the others.
    await request(again, 'link:level', { level: 'full' });
    await expect.poll(() => links).toEqual([{ participantId, level: 'full' }]);
    const audit = await system.recentAudit(10);
    expect(audit.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['conference.suspended', 'conference.resumed']),
    );
    // The old token is spent.
    expect(
      await send(tanaka, 'session:resume', {
        sessionId: DEMO_SESSION_ID,
        participantId,
        resumeToken: joined.resumeToken,
      }),
    ).toMatchObject({ ok: false });
    expect(left).toEqual([]);
    expect(removed).toEqual([]);
    await hangUp(again, tanaka);
  });

  it('takes over a participant whose old socket this node still believes alive', async () => {
    const sato = await system.connect('sato');
    const joined = await joinDemo(sato);
    const oldClosed = new Promise((resolve) => sato.once('disconnect', resolve));
    const again = await system.connect('sato');
    const resumed = await request(again, 'session:resume', {
      sessionId: DEMO_SESSION_ID,
      participantId: joined.self.participantId,
      resumeToken: joined.resumeToken,
    });
    expect(resumed.self.participantId).toBe(joined.self.participantId);
    await oldClosed;
    expect(await request(again, 'floor:state', {})).toMatchObject({ hands: [] });
    await hangUp(again);
  });

  it('refuses a wrong token, another account, and another node', async () => {
    const sato = await system.connect('sato');
    const joined = await joinDemo(sato);
    const participantId = joined.self.participantId;
    cutConnection(sato);
    const wrongToken = { sessionId: DEMO_SESSION_ID, participantId, resumeToken: 'A'.repeat(43) };
    const satoAgain = await system.connect('sato');
    expect(await send(satoAgain, 'session:resume', wrongToken)).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    const rightToken = { ...wrongToken, resumeToken: joined.resumeToken };
    const suzuki = await system.connect('suzuki');
    expect(await send(suzuki, 'session:resume', rightToken)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const elsewhere = await system.connect('sato', { node: 1 });
    expect(await send(elsewhere, 'session:resume', rightToken)).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    // None of it spent the participant: the right token on the right node still resumes it.
    expect((await request(satoAgain, 'session:resume', rightToken)).self.participantId).toBe(participantId);
    const audit = await system.recentAudit(10);
    expect(
      audit.filter((entry) => entry.action === 'conference.resume-refused').map((entry) => entry.detail?.reason),
    ).toEqual(expect.arrayContaining(['mismatch', 'other-node']));
    await hangUp(satoAgain, suzuki, elsewhere);
  });

  it('spares a suspended participant when another joiner sweeps stale presence', async () => {
    const tanaka = await system.connect('tanaka');
    const sato = await system.connect('sato');
    await joinDemo(tanaka);
    const joined = await joinDemo(sato);
    const suspended = nextEvent(tanaka, 'participant:suspended');
    cutConnection(sato);
    await suspended;
    const left = collect(tanaka, 'participant:left');
    // Suzuki joins through the other node, whose sweep finds no live socket for sato.
    const suzuki = await system.connect('suzuki', { node: 1 });
    const view = await joinDemo(suzuki);
    expect(view.participants.map((other) => other.participantId)).toContain(joined.self.participantId);
    expect(view.suspendedParticipantIds).toEqual([joined.self.participantId]);
    expect(left).toEqual([]);
    const satoAgain = await system.connect('sato');
    await request(satoAgain, 'session:resume', {
      sessionId: DEMO_SESSION_ID,
      participantId: joined.self.participantId,
      resumeToken: joined.resumeToken,
    });
    await hangUp(satoAgain, suzuki, tanaka);
  });

  it('removes the participant after the grace period, tells why, and refuses a late resume', async () => {
    const tanaka = await system.connect('tanaka', { node: 1 });
    const sato = await system.connect('sato');
    await joinDemo(tanaka);
    const joined = await joinDemo(sato);
    const participantId = joined.self.participantId;
    await request(sato, 'floor:hand', { raised: true });
    await request(sato, 'jointRead:presenter', { action: 'request' });
    const left = nextEvent(tanaka, 'participant:left');
    const presenterGone = eventWhere(tanaka, 'jointRead:state', (state) => state.presenter === null);
    cutConnection(sato);
    expect(await left).toEqual({ participantId, reason: 'connection-lost' });
    await presenterGone;
    expect((await request(tanaka, 'floor:state', {})).hands).toEqual([]);
    const late = await system.connect('sato');
    expect(
      await send(late, 'session:resume', {
        sessionId: DEMO_SESSION_ID,
        participantId,
        resumeToken: joined.resumeToken,
      }),
    ).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const audit = await system.recentAudit(10);
    expect(audit.find((entry) => entry.action === 'conference.left')?.detail).toMatchObject({
      participantId,
      reason: 'connection-lost',
    });
    await hangUp(late, tanaka);
  });

  it('restarts ICE of the participant’s own transport only', async () => {
    const tanaka = await system.connect('tanaka');
    const sato = await system.connect('sato');
    await joinDemo(tanaka);
    await joinDemo(sato);
    const transport = await request(sato, 'transport:create', { direction: 'recv' });
    const restarted = await request(sato, 'transport:restart-ice', { transportId: transport.id });
    expect(restarted.iceParameters.usernameFragment).not.toBe(transport.iceParameters.usernameFragment);
    expect(restarted.iceParameters.password).not.toBe(transport.iceParameters.password);
    expect(await send(tanaka, 'transport:restart-ice', { transportId: transport.id })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    await hangUp(sato, tanaka);
  });
});
