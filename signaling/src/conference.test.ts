import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RtpParameters } from '@telemed/contract';
import { AuditLog, DEMO_SESSION_ID } from '@telemed/domain';
import {
  joinDemo,
  nextEvent,
  request,
  send,
  startConferenceTestSystem,
  type ConferenceTestSystem,
} from './conference-test-system.ts';

const opusParameters = (ssrc: number): RtpParameters => ({
  mid: '0',
  codecs: [
    { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 } },
  ],
  encodings: [{ ssrc }],
  rtcp: { cname: `cname-${ssrc}`, reducedSize: true },
});

describe('signaling with a real SFU and Redis', () => {
  let system: ConferenceTestSystem;

  beforeAll(async () => {
    system = await startConferenceTestSystem();
  });
  afterAll(async () => {
    await system?.close();
  });

  it('refuses sockets without a valid signaling token', async () => {
    const wrongAudience = await system.tokenFor('sato', 'dicom-proxy');
    for (const token of [null, 'garbage', wrongAudience]) {
      await expect(system.connect('sato', { token })).rejects.toThrow('unauthenticated');
    }
  });

  it('refuses a deactivated account even with an unexpired token', async () => {
    const token = await system.tokenFor('suzuki');
    const suzuki = (await system.accounts.findByUsername('suzuki'))!;
    await system.redis.set(`account:${suzuki.id}`, JSON.stringify({ ...suzuki, active: false }));
    try {
      await expect(system.connect('suzuki', { token })).rejects.toThrow('unauthenticated');
    } finally {
      await system.redis.set(`account:${suzuki.id}`, JSON.stringify(suzuki));
    }
  });

  it('asks to join before anything else', async () => {
    const client = await system.connect('sato');
    expect(await send(client, 'transport:create', { direction: 'send' })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    client.close();
  });

  it('refuses and audits an account that is not invited', async () => {
    const created = await system.accounts.create({
      username: 'outsider',
      password: 'outsider-password',
      displayName: '部外 者',
      siteId: 'aoshima-not-invited',
      roles: ['observer'],
    });
    const client = await system.connect('outsider');
    const ack = await send(client, 'session:capabilities', { sessionId: DEMO_SESSION_ID });
    expect(ack).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const unknown = await send(client, 'session:capabilities', { sessionId: '5b0c5d3e-0000-4000-8000-000000000000' });
    expect(unknown).toEqual(ack);
    const audit = await new AuditLog(system.redis).recent(5);
    const denials = audit.filter(
      (entry) => entry.action === 'conference.denied' && entry.actorAccountId === created!.id,
    );
    expect(denials.map((entry) => [entry.target, entry.outcome, entry.detail?.reason])).toEqual([
      ['session:5b0c5d3e-0000-4000-8000-000000000000', 'denied', 'unknown-session'],
      [`session:${DEMO_SESSION_ID}`, 'denied', 'not-invited'],
    ]);
    client.close();
  });

  it('runs a session: presence, producers, consumers, pause, leave — and frees all media', async () => {
    const tanaka = await system.connect('tanaka');
    const sato = await system.connect('sato');

    const first = await joinDemo(tanaka);
    expect(first.self).toMatchObject({ displayName: '田中 一郎', siteNameJa: '南海大学病院' });
    expect(first.participants).toEqual([]);

    const send1 = await request(tanaka, 'transport:create', { direction: 'send' });
    expect(send1.iceCandidates.map((candidate) => candidate.protocol).sort()).toEqual(['tcp', 'udp']);
    expect(new Set(send1.iceCandidates.map((candidate) => candidate.port)).size).toBe(1);
    const { producerId } = await request(tanaka, 'producer:create', {
      transportId: send1.id,
      kind: 'audio',
      source: 'microphone',
      rtpParameters: opusParameters(1111),
    });

    const joinedEvent = nextEvent(tanaka, 'participant:joined');
    const second = await joinDemo(sato);
    expect((await joinedEvent).displayName).toBe('佐藤 花子');
    expect(second.participants.map((participant) => participant.displayName)).toEqual(['田中 一郎']);
    expect(second.producers).toEqual([
      { producerId, participantId: first.self.participantId, kind: 'audio', source: 'microphone', paused: false },
    ]);

    expect(await send(sato, 'consumer:create', { producerId })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    await request(sato, 'transport:create', { direction: 'recv' });
    const consumer = await request(sato, 'consumer:create', { producerId });
    expect(consumer).toMatchObject({
      producerId,
      kind: 'audio',
      participantId: first.self.participantId,
      source: 'microphone',
    });
    await request(sato, 'consumer:resume', { consumerId: consumer.consumerId });

    const paused = nextEvent(sato, 'producer:paused');
    await request(tanaka, 'producer:pause', { producerId });
    expect(await paused).toEqual({ producerId, participantId: first.self.participantId, paused: true });

    // Nobody may touch another participant's producer.
    expect(await send(sato, 'producer:close', { producerId })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });

    const media = await request(sato, 'transport:create', { direction: 'send' }).then(() =>
      system.sfu.routers.stats(DEMO_SESSION_ID),
    );
    expect(media).toMatchObject({ participants: 2, transports: 3, producers: 1, consumers: 1 });

    const removed = nextEvent(sato, 'producer:removed');
    const left = nextEvent(sato, 'participant:left');
    const consumerClosed = nextEvent(sato, 'consumer:closed');
    await request(tanaka, 'session:leave', {});
    expect(await removed).toEqual({ producerId, participantId: first.self.participantId });
    expect(await left).toEqual({ participantId: first.self.participantId, reason: 'left' });
    expect((await consumerClosed).consumerId).toBe(consumer.consumerId);

    sato.close(); // a dropped browser leaves like one that said goodbye
    await expect.poll(() => system.sfu.routers.stats(DEMO_SESSION_ID).then((stats) => stats.transports)).toBe(0);
    await expect.poll(() => system.redis.hLen(`conference:${DEMO_SESSION_ID}:participants`)).toBe(0);

    const actions = (await new AuditLog(system.redis).recent(10)).map((entry) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(['conference.joined', 'conference.left']));
    tanaka.close();
  });

  it('ends the calls on a mediasoup worker that dies, says so, and carries on with a new worker', async () => {
    const tanaka = await system.connect('tanaka');
    const sato = await system.connect('sato');
    const first = await joinDemo(tanaka);
    await joinDemo(sato);
    const [pid] = system.sfu.pool.pids();
    const dropped = Promise.all(
      [tanaka, sato].map((client) => new Promise((resolve) => client.once('disconnect', resolve))),
    );
    process.kill(pid!, 'SIGKILL');
    await dropped;

    await expect.poll(() => system.redis.hLen(`conference:${DEMO_SESSION_ID}:participants`)).toBe(0);
    const audit = await new AuditLog(system.redis).recent(10);
    expect(
      audit.find(
        (entry) => entry.detail?.participantId === first.self.participantId && entry.action === 'conference.left',
      ),
    ).toMatchObject({
      detail: { reason: 'media-server-lost' },
    });
    await expect.poll(() => system.sfu.pool.pids().filter((other) => other !== pid).length).toBe(1);

    const again = await system.connect('tanaka');
    expect((await joinDemo(again)).self.displayName).toBe('田中 一郎');
    await request(again, 'session:leave', {});
    again.close();
  });

  it('rejects media parameters mediasoup cannot use, with an error ack', async () => {
    const client = await system.connect('suzuki');
    await joinDemo(client);
    const transport = await request(client, 'transport:create', { direction: 'send' });
    const ack = await send(client, 'producer:create', {
      transportId: transport.id,
      kind: 'video',
      source: 'camera',
      rtpParameters: {
        codecs: [{ mimeType: 'video/H266', payloadType: 96, clockRate: 90000 }],
        encodings: [{ ssrc: 5 }],
      },
    });
    expect(ack).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    await request(client, 'session:leave', {});
    client.close();
  });
});

describe('signaling across two nodes (Redis adapter)', () => {
  let system: ConferenceTestSystem;

  beforeAll(async () => {
    system = await startConferenceTestSystem({ signalingNodes: 2 });
  });
  afterAll(async () => {
    await system?.close();
  });

  it('keeps every participant of sites pressing Join at the same moment, on both nodes', async () => {
    const presence = () => system.redis.hLen(`conference:${DEMO_SESSION_ID}:participants`);
    for (let round = 0; round < 5; round += 1) {
      const clients = await Promise.all(
        ['tanaka', 'sato', 'suzuki'].map((username, index) => system.connect(username, { node: index % 2 })),
      );
      const joined = await Promise.all(clients.map((client) => joinDemo(client)));
      expect(new Set(joined.map((answer) => answer.self.participantId)).size).toBe(3);
      // Nobody's presence was taken for one a crashed node left behind.
      expect(await presence()).toBe(3);
      for (const client of clients) await request(client, 'session:leave', {});
      for (const client of clients) client.close();
    }
  });

  it('tells participants on one node about participants and producers on the other', async () => {
    const tanaka = await system.connect('tanaka', { node: 0 });
    const suzuki = await system.connect('suzuki', { node: 1 });
    const first = await joinDemo(tanaka);
    const joined = nextEvent(tanaka, 'participant:joined');
    const second = await joinDemo(suzuki);
    expect((await joined).participantId).toBe(second.self.participantId);
    expect(second.participants.map((participant) => participant.participantId)).toEqual([first.self.participantId]);

    const transport = await request(suzuki, 'transport:create', { direction: 'send' });
    const added = nextEvent(tanaka, 'producer:added');
    const { producerId } = await request(suzuki, 'producer:create', {
      transportId: transport.id,
      kind: 'audio',
      source: 'microphone',
      rtpParameters: opusParameters(2222),
    });
    expect(await added).toMatchObject({ producerId, participantId: second.self.participantId });

    const left = nextEvent(tanaka, 'participant:left');
    suzuki.close();
    expect(await left).toEqual({ participantId: second.self.participantId, reason: 'disconnected' });
    tanaka.close();
  });
});
