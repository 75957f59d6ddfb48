import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RtpParameters } from '@telemed/contract';
import { DEMO_SESSION_ID, publishDomainEvent, type Session } from '@telemed/domain';
import {
  joinSession,
  nextEvent,
  request,
  send,
  startConferenceTestSystem,
  type ConferenceClient,
  type ConferenceTestSystem,
} from './conference-test-system.ts';

/**
 * Room access follows the schedule and the host's waiting room; calls end when the session is
 * cancelled, ended or over, and when an account loses its access. Two signaling nodes, so every
 * notification has to cross the Redis adapter.
 */

const HOUR = 3600_000;
const opus: RtpParameters = {
  mid: '0',
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
  encodings: [{ ssrc: 4242 }],
};

const disconnected = (client: ConferenceClient) => new Promise((resolve) => client.once('disconnect', resolve));

describe('room access, waiting room and the end of calls', () => {
  let system: ConferenceTestSystem;
  let yamadaId: string;

  beforeAll(async () => {
    system = await startConferenceTestSystem({ signalingNodes: 2, recheckMs: 250 });
    await system.sites.create({ id: 'yamanaka', nameJa: '山中診療所', nameEn: 'Yamanaka Clinic', kind: 'clinic' });
    const yamada = await system.accounts.create({
      username: 'yamada',
      password: 'yamada-password',
      displayName: '山田 太郎',
      siteId: 'yamanaka',
      roles: ['site-doctor'],
    });
    yamadaId = yamada!.id;
    await system.accounts.create({
      username: 'ito',
      password: 'ito-password-1',
      displayName: '伊藤 学',
      siteId: 'aoshima',
      roles: ['observer'],
    });
  });
  afterAll(async () => {
    await system?.close();
  });

  /** A session live now (tanaka hosting, Aoshima invited) unless told otherwise. */
  const liveSession = (options: Partial<Parameters<ConferenceTestSystem['schedule']>[0]> = {}) =>
    system.schedule({ startsInMs: -HOUR, endsInMs: HOUR, invitedSiteIds: ['aoshima'], ...options });

  const denials = async (accountId: string, sessionId: string) =>
    (await system.recentAudit(50)).filter(
      (entry) =>
        entry.action === 'conference.denied' && entry.actorAccountId === accountId && entry.sessionId === sessionId,
    );

  it('refuses an account that is not invited, with the same answer as an unknown session, and audits it', async () => {
    const session = await liveSession();
    const yamada = await system.connect('yamada', { node: 1 });
    const refused = await send(yamada, 'session:capabilities', { sessionId: session.id });
    expect(refused).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const unknown = await send(yamada, 'session:capabilities', { sessionId: '6b0c5d3e-0000-4000-8000-000000000000' });
    expect(unknown).toEqual(refused);
    expect(await denials(yamadaId, session.id)).toMatchObject([
      { target: `session:${session.id}`, outcome: 'denied', siteId: 'yamanaka', detail: { reason: 'not-invited' } },
    ]);
    yamada.close();
  });

  it('refuses a session that is not live (not yet open, over, or ended early) even to the invited', async () => {
    const sato = await system.connect('sato');
    const satoId = await system.accountId('sato');
    const later = await system.schedule({ startsInMs: 2 * HOUR, endsInMs: 3 * HOUR, invitedSiteIds: ['aoshima'] });
    const over = await system.schedule({ startsInMs: -3 * HOUR, endsInMs: -HOUR, invitedSiteIds: ['aoshima'] });
    const endedEarly = await liveSession();
    await system.sessions.end(endedEarly.id);
    for (const session of [later, over, endedEarly]) {
      expect(await send(sato, 'session:capabilities', { sessionId: session.id })).toMatchObject({
        ok: false,
        error: { code: 'forbidden' },
      });
      expect(await send(sato, 'lobby:knock', { sessionId: session.id })).toMatchObject({
        ok: false,
        error: { code: 'forbidden' },
      });
      expect((await denials(satoId, session.id)).map((entry) => entry.detail?.reason)).toEqual(['not-live']);
    }
    // The room opens 15 minutes before the start.
    const soon = await system.schedule({ startsInMs: 10 * 60_000, endsInMs: HOUR, invitedSiteIds: ['aoshima'] });
    expect((await joinSession(sato, soon.id)).self.displayName).toBe('佐藤 花子');
    await request(sato, 'session:leave', {});
    sato.close();
  });

  it('lets a guest knock, shows the host the waiting list, and lets the admitted guest in', async () => {
    const session = await liveSession();
    const tanaka = await system.connect('tanaka', { node: 0 });
    const yamada = await system.connect('yamada', { node: 1 });
    expect((await joinSession(tanaka, session.id)).mayAdmit).toBe(true);

    const listed = nextEvent(tanaka, 'lobby:waiting');
    expect(await request(yamada, 'lobby:knock', { sessionId: session.id })).toEqual({ status: 'waiting' });
    const expectedGuest = {
      accountId: yamadaId,
      displayName: '山田 太郎',
      siteId: 'yamanaka',
      siteNameJa: '山中診療所',
      siteNameEn: 'Yamanaka Clinic',
    };
    expect(await listed).toMatchObject({ sessionId: session.id, waiting: [expectedGuest] });
    expect(await request(tanaka, 'lobby:list', { sessionId: session.id })).toMatchObject({
      waiting: [expectedGuest],
    });
    // Still not in: waiting is not admitted.
    expect(await send(yamada, 'session:capabilities', { sessionId: session.id })).toMatchObject({ ok: false });

    const decision = nextEvent(yamada, 'lobby:decision');
    const emptied = nextEvent(tanaka, 'lobby:waiting');
    expect(await request(tanaka, 'lobby:admit', { sessionId: session.id, accountId: yamadaId })).toEqual({
      waiting: [],
    });
    expect(await decision).toEqual({ sessionId: session.id, decision: 'admitted' });
    expect(await emptied).toEqual({ sessionId: session.id, waiting: [] });

    const joined = nextEvent(tanaka, 'participant:joined');
    const guest = await joinSession(yamada, session.id);
    expect(guest).toMatchObject({ mayAdmit: false, mayProduceMedia: true });
    expect((await joined).displayName).toBe('山田 太郎');
    // Admitted for the rest of the session: knocking again lets the guest in at once.
    expect(await request(yamada, 'lobby:knock', { sessionId: session.id })).toEqual({ status: 'admitted' });

    const audit = await system.recentAudit(30);
    const lobbyEntries = audit
      .filter((entry) => entry.sessionId === session.id && /knocked|admitted/.test(entry.action))
      .map((entry) => [entry.action, entry.target, entry.outcome, entry.actorAccountId]);
    expect(lobbyEntries).toEqual([
      ['conference.admitted', `account:${yamadaId}`, 'success', await system.accountId('tanaka')],
      ['conference.knocked', `account:${yamadaId}`, 'success', yamadaId],
    ]);
    expect(
      audit.find((entry) => entry.action === 'conference.joined' && entry.actorAccountId === yamadaId),
    ).toMatchObject({ target: `session:${session.id}`, outcome: 'success', sessionId: session.id });
    tanaka.close();
    yamada.close();
  });

  it('lets invited accounts in at once without waiting', async () => {
    const session = await liveSession({ invitedUsernames: ['suzuki'] });
    const suzuki = await system.connect('suzuki', { node: 1 });
    expect(await request(suzuki, 'lobby:knock', { sessionId: session.id })).toEqual({ status: 'admitted' });
    expect(await system.redis.hLen(`session:${session.id}:waiting`)).toBe(0);
    suzuki.close();
  });

  it('tells a rejected guest, keeps the guest out, and lets only the host decide', async () => {
    const session = await liveSession();
    const tanaka = await system.connect('tanaka', { node: 0 });
    const sato = await system.connect('sato', { node: 0 });
    const yamada = await system.connect('yamada', { node: 1 });
    await request(yamada, 'lobby:knock', { sessionId: session.id });

    // An invited participant who is not the host may neither see nor decide.
    for (const attempt of [
      send(sato, 'lobby:admit', { sessionId: session.id, accountId: yamadaId }),
      send(sato, 'lobby:reject', { sessionId: session.id, accountId: yamadaId }),
      send(sato, 'lobby:list', { sessionId: session.id }),
      send(yamada, 'lobby:admit', { sessionId: session.id, accountId: yamadaId }),
    ]) {
      expect(await attempt).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    const satoId = await system.accountId('sato');
    expect(
      (await system.recentAudit(20)).find(
        (entry) => entry.action === 'conference.admitted' && entry.actorAccountId === satoId,
      ),
    ).toMatchObject({ outcome: 'denied', target: `account:${yamadaId}`, sessionId: session.id });

    const decision = nextEvent(yamada, 'lobby:decision');
    expect(await request(tanaka, 'lobby:reject', { sessionId: session.id, accountId: yamadaId })).toEqual({
      waiting: [],
    });
    expect(await decision).toEqual({ sessionId: session.id, decision: 'rejected' });
    expect(await send(yamada, 'session:capabilities', { sessionId: session.id })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    // Nobody is waiting any more.
    expect(await send(tanaka, 'lobby:admit', { sessionId: session.id, accountId: yamadaId })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    expect(
      (await system.recentAudit(20)).find(
        (entry) => entry.action === 'conference.rejected' && entry.outcome === 'success',
      ),
    ).toMatchObject({ target: `account:${yamadaId}`, sessionId: session.id });
    for (const client of [tanaka, sato, yamada]) client.close();
  });

  it('takes a guest off the list on withdrawal or when the guest goes away', async () => {
    const session = await liveSession();
    const tanaka = await system.connect('tanaka', { node: 0 });
    const yamada = await system.connect('yamada', { node: 1 });
    const listed = nextEvent(tanaka, 'lobby:waiting');
    await request(yamada, 'lobby:knock', { sessionId: session.id });
    expect((await listed).waiting).toHaveLength(1);
    const withdrawn = nextEvent(tanaka, 'lobby:waiting');
    await request(yamada, 'lobby:withdraw', { sessionId: session.id });
    expect(await withdrawn).toEqual({ sessionId: session.id, waiting: [] });

    const again = nextEvent(tanaka, 'lobby:waiting');
    await request(yamada, 'lobby:knock', { sessionId: session.id });
    expect((await again).waiting).toHaveLength(1);
    const gone = nextEvent(tanaka, 'lobby:waiting');
    yamada.close();
    expect(await gone).toEqual({ sessionId: session.id, waiting: [] });
    expect(
      (await system.recentAudit(10)).filter((entry) => entry.action === 'conference.withdrew').map((e) => e.detail),
    ).toEqual([{ reason: 'disconnected' }, { reason: 'withdrawn' }]);
    tanaka.close();
  });

  it('lets observers watch and listen but not send media', async () => {
    const ito = await system.connect('ito', { node: 1 });
    const joined = await joinSession(ito, DEMO_SESSION_ID);
    expect(joined).toMatchObject({ mayProduceMedia: false, mayAdmit: false });
    const transport = await request(ito, 'transport:create', { direction: 'send' });
    expect(
      await send(ito, 'producer:create', {
        transportId: transport.id,
        kind: 'audio',
        source: 'microphone',
        rtpParameters: opus,
      }),
    ).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    await request(ito, 'transport:create', { direction: 'recv' });
    await request(ito, 'session:leave', {});
    ito.close();
  });

  /** Tanaka (node 0) and Sato (node 1) in a call, Yamada waiting outside. */
  async function callWithGuestWaiting(session: Session) {
    const tanaka = await system.connect('tanaka', { node: 0 });
    const sato = await system.connect('sato', { node: 1 });
    const yamada = await system.connect('yamada', { node: 1 });
    await joinSession(tanaka, session.id);
    const satoJoined = await joinSession(sato, session.id);
    const transport = await request(sato, 'transport:create', { direction: 'send' });
    await request(sato, 'producer:create', {
      transportId: transport.id,
      kind: 'audio',
      source: 'microphone',
      rtpParameters: opus,
    });
    await request(yamada, 'lobby:knock', { sessionId: session.id });
    return { tanaka, sato, yamada, satoParticipantId: satoJoined.self.participantId };
  }

  const presenceCount = (sessionId: string) => system.redis.hLen(`conference:${sessionId}:participants`);
  const mediaTransports = (sessionId: string) => system.sfu.routers.stats(sessionId).then((stats) => stats.transports);

  it('tells the participants on every node of a case attached mid-call, and nobody else', async () => {
    const session = await liveSession();
    const other = await liveSession({ invitedUsernames: ['suzuki'] });
    const tanaka = await system.connect('tanaka', { node: 0 });
    const sato = await system.connect('sato', { node: 1 });
    const suzuki = await system.connect('suzuki', { node: 1 });
    await joinSession(tanaka, session.id);
    await joinSession(sato, session.id);
    await joinSession(suzuki, other.id);
    const told = [tanaka, sato].map((client) => nextEvent(client, 'session:case-attached'));
    let elsewhere = false;
    suzuki.on('session:case-attached', () => (elsewhere = true));
    await publishDomainEvent(system.redis, { type: 'session.case-attached', sessionId: session.id });
    for (const event of await Promise.all(told)) expect(event).toEqual({ sessionId: session.id });
    expect(elsewhere).toBe(false);
    for (const client of [tanaka, sato, suzuki]) client.close();
  });

  it('ends the call of a session cancelled mid-call: everyone told, presence and media cleared', async () => {
    const session = await liveSession();
    const { tanaka, sato, yamada } = await callWithGuestWaiting(session);
    const told = [tanaka, sato, yamada].map((client) => nextEvent(client, 'session:ended'));
    await system.sessions.cancel(session.id);
    await publishDomainEvent(system.redis, { type: 'session.cancelled', sessionId: session.id });
    for (const event of await Promise.all(told)) expect(event).toEqual({ sessionId: session.id, reason: 'cancelled' });
    await expect.poll(() => presenceCount(session.id)).toBe(0);
    await expect.poll(() => mediaTransports(session.id)).toBe(0);
    expect(await system.redis.hLen(`conference:${session.id}:producers`)).toBe(0);
    const left = (await system.recentAudit(30)).filter(
      (entry) => entry.action === 'conference.left' && entry.sessionId === session.id,
    );
    expect(left.map((entry) => entry.detail?.reason)).toEqual(['cancelled', 'cancelled']);
    // The sockets stay connected but the session is over for them.
    expect(tanaka.connected).toBe(true);
    expect(await send(tanaka, 'session:capabilities', { sessionId: session.id })).toMatchObject({ ok: false });
    for (const client of [tanaka, sato, yamada]) client.close();
  });

  it('says why when a session ends because its host was deactivated', async () => {
    const session = await liveSession();
    const { tanaka, sato, yamada } = await callWithGuestWaiting(session);
    const told = nextEvent(sato, 'session:ended');
    await system.sessions.end(session.id);
    await publishDomainEvent(system.redis, {
      type: 'session.ended',
      sessionId: session.id,
      reason: 'host-deactivated',
    });
    expect(await told).toEqual({ sessionId: session.id, reason: 'host-deactivated' });
    await expect.poll(() => presenceCount(session.id)).toBe(0);
    for (const client of [tanaka, sato, yamada]) client.close();
  });

  it('drops a deactivated account at once: told, disconnected, gone from the room', async () => {
    const session = await liveSession({ invitedUsernames: ['suzuki'] });
    const tanaka = await system.connect('tanaka', { node: 0 });
    const suzuki = await system.connect('suzuki', { node: 1 });
    await joinSession(tanaka, session.id);
    const { self } = await joinSession(suzuki, session.id);
    const suzukiId = self.accountId;
    const told = nextEvent(suzuki, 'session:ended');
    const dropped = disconnected(suzuki);
    const left = nextEvent(tanaka, 'participant:left');
    await system.accounts.setActive(suzukiId, false);
    try {
      await publishDomainEvent(system.redis, { type: 'account.deactivated', accountId: suzukiId });
      expect(await told).toEqual({ sessionId: session.id, reason: 'access-revoked' });
      await dropped;
      expect(await left).toEqual({ participantId: self.participantId, reason: 'access-revoked' });
      await expect.poll(() => presenceCount(session.id)).toBe(1);
      await expect(system.connect('suzuki')).rejects.toThrow('unauthenticated');
    } finally {
      await system.accounts.setActive(suzukiId, true);
    }
    tanaka.close();
  });

  it('takes a deactivated guest off the waiting list and drops the connection', async () => {
    const session = await liveSession();
    const kato = await system.accounts.create({
      username: 'kato',
      password: 'kato-password-1',
      displayName: '加藤 三郎',
      siteId: 'yamanaka',
      roles: ['site-doctor'],
    });
    const tanaka = await system.connect('tanaka', { node: 0 });
    const guest = await system.connect('kato', { node: 1 });
    const listed = nextEvent(tanaka, 'lobby:waiting');
    await request(guest, 'lobby:knock', { sessionId: session.id });
    expect((await listed).waiting).toHaveLength(1);
    const emptied = nextEvent(tanaka, 'lobby:waiting');
    const told = nextEvent(guest, 'session:ended');
    const dropped = disconnected(guest);
    await system.accounts.setActive(kato!.id, false);
    await publishDomainEvent(system.redis, { type: 'account.deactivated', accountId: kato!.id });
    expect(await told).toEqual({ sessionId: session.id, reason: 'access-revoked' });
    expect(await emptied).toEqual({ sessionId: session.id, waiting: [] });
    await dropped;
    tanaka.close();
  });

  it('removes a participant uninvited mid-call, and keeps the others', async () => {
    const session = await liveSession();
    const { tanaka, sato, yamada, satoParticipantId } = await callWithGuestWaiting(session);
    const told = nextEvent(sato, 'session:ended');
    const left = nextEvent(tanaka, 'participant:left');
    await system.sessions.update(session.id, { invitedSiteIds: [], allowDoubleBooking: true });
    await publishDomainEvent(system.redis, { type: 'session.updated', sessionId: session.id });
    expect(await told).toEqual({ sessionId: session.id, reason: 'access-revoked' });
    expect(await left).toEqual({ participantId: satoParticipantId, reason: 'access-revoked' });
    await expect.poll(() => presenceCount(session.id)).toBe(1);
    expect(await request(tanaka, 'lobby:list', { sessionId: session.id })).toMatchObject({
      waiting: [{ accountId: yamadaId }],
    });
    expect(await send(sato, 'session:capabilities', { sessionId: session.id })).toMatchObject({ ok: false });
    for (const client of [tanaka, sato, yamada]) client.close();
  });

  it('ends calls at the scheduled end, and catches a change whose event was missed', async () => {
    const ending = await system.schedule({ startsInMs: -HOUR, endsInMs: 1500, invitedSiteIds: ['aoshima'] });
    const sato = await system.connect('sato', { node: 1 });
    await joinSession(sato, ending.id);
    expect(await nextEvent(sato, 'session:ended')).toEqual({ sessionId: ending.id, reason: 'ended' });
    await expect.poll(() => presenceCount(ending.id)).toBe(0);

    // Cancelled without an event (pub/sub lost it): the periodic re-check ends the call anyway.
    const cancelled = await liveSession({ invitedUsernames: ['suzuki'] });
    const suzuki = await system.connect('suzuki', { node: 0 });
    await joinSession(suzuki, cancelled.id);
    const told = nextEvent(suzuki, 'session:ended');
    await system.sessions.cancel(cancelled.id);
    expect(await told).toEqual({ sessionId: cancelled.id, reason: 'cancelled' });

    // Moved to a later time while in the call: the room closes until then.
    const moved = await liveSession();
    await joinSession(sato, moved.id);
    const closed = nextEvent(sato, 'session:ended');
    const start = new Date(Date.now() + 5 * HOUR);
    await system.sessions.update(moved.id, {
      startsAt: start.toISOString(),
      endsAt: new Date(start.getTime() + HOUR).toISOString(),
      allowDoubleBooking: true,
    });
    await publishDomainEvent(system.redis, { type: 'session.updated', sessionId: moved.id });
    expect(await closed).toEqual({ sessionId: moved.id, reason: 'rescheduled' });
    sato.close();
    suzuki.close();
  });

  it('ignores malformed domain events and keeps working', async () => {
    await system.redis.publish('telemed:domain-events', '{"type":"session.cancelled","sessionId":42}');
    await system.redis.publish('telemed:domain-events', 'not json');
    const sato = await system.connect('sato', { node: 1 });
    expect((await joinSession(sato, DEMO_SESSION_ID)).self.displayName).toBe('佐藤 花子');
    await request(sato, 'session:leave', {});
    sato.close();
  });
});
