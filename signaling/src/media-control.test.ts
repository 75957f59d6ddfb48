import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RtpParameters } from '@telemed/contract';
import { DEMO_SESSION_ID } from '@telemed/domain';
import {
  joinDemo,
  nextEvent,
  produceCamera,
  request,
  send,
  startConferenceTestSystem,
  vp8Simulcast,
  type ConferenceClient,
  type ConferenceTestSystem,
} from './conference-test-system.ts';

const opus = (ssrc: number): RtpParameters => ({
  mid: '0',
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
  encodings: [{ ssrc }],
  rtcp: { cname: `cname-${ssrc}`, reducedSize: true },
});

describe('media controls in a session: screen shares, consumers, the host’s media stats', () => {
  let system: ConferenceTestSystem;
  const clients: ConferenceClient[] = [];

  /** A participant of the demo session with a send and a receive transport. */
  const participant = async (username: string) => {
    const client = await system.connect(username);
    clients.push(client);
    const joined = await joinDemo(client);
    const sending = await request(client, 'transport:create', { direction: 'send' });
    await request(client, 'transport:create', { direction: 'recv' });
    return { client, participantId: joined.self.participantId, transportId: sending.id };
  };

  const auditActions = async (count = 30) =>
    (await system.recentAudit(count)).map((entry) => [entry.action, entry.outcome, entry.detail] as const);

  beforeAll(async () => {
    system = await startConferenceTestSystem();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await expect.poll(() => system.redis.hLen(`conference:${DEMO_SESSION_ID}:participants`)).toBe(0);
    await system.redis.del(`conference:${DEMO_SESSION_ID}:screen-share`);
  });
  afterAll(async () => {
    await system?.close();
  });

  it('lets one site share a screen at a time, until the host allows more', async () => {
    const tanaka = await participant('tanaka');
    const sato = await participant('sato');
    const suzuki = await participant('suzuki');

    expect(await request(sato.client, 'screenShare:policy', {})).toEqual({ allowMultiple: false });
    const added = nextEvent(tanaka.client, 'producer:added');
    const share = await request(sato.client, 'producer:create', {
      transportId: sato.transportId,
      kind: 'video',
      source: 'screen',
      rtpParameters: vp8Simulcast(1000),
    });
    expect(await added).toMatchObject({ producerId: share.producerId, source: 'screen', kind: 'video' });
    // Its sound comes with it; nobody else's screen does while it lasts.
    await request(sato.client, 'producer:create', {
      transportId: sato.transportId,
      kind: 'audio',
      source: 'screen-audio',
      rtpParameters: opus(1100),
    });
    const producersBefore = (await system.sfu.routers.stats(DEMO_SESSION_ID)).producers;
    expect(
      await send(suzuki.client, 'producer:create', {
        transportId: suzuki.transportId,
        kind: 'video',
        source: 'screen',
        rtpParameters: vp8Simulcast(2000),
      }),
    ).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(
      await send(suzuki.client, 'producer:create', {
        transportId: suzuki.transportId,
        kind: 'audio',
        source: 'screen-audio',
        rtpParameters: opus(2100),
      }),
    ).toMatchObject({ ok: false, error: { code: 'conflict' } });
    // The refused producers are gone from the SFU too.
    await expect.poll(async () => (await system.sfu.routers.stats(DEMO_SESSION_ID)).producers).toBe(producersBefore);
    // A source carries its own kind of media.
    expect(
      await send(suzuki.client, 'producer:create', {
        transportId: suzuki.transportId,
        kind: 'audio',
        source: 'screen',
        rtpParameters: opus(2200),
      }),
    ).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });

    // Only the host changes the policy; everyone hears of it.
    expect(await send(suzuki.client, 'screenShare:setPolicy', { allowMultiple: true })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    const told = nextEvent(suzuki.client, 'screenShare:policy');
    expect(await request(tanaka.client, 'screenShare:setPolicy', { allowMultiple: true })).toEqual({
      allowMultiple: true,
    });
    expect(await told).toEqual({ allowMultiple: true });
    await request(suzuki.client, 'producer:create', {
      transportId: suzuki.transportId,
      kind: 'video',
      source: 'screen',
      rtpParameters: vp8Simulcast(2300),
    });

    const removed = nextEvent(tanaka.client, 'producer:removed');
    await request(sato.client, 'producer:close', { producerId: share.producerId });
    expect(await removed).toEqual({ producerId: share.producerId, participantId: sato.participantId });

    const audit = await auditActions();
    expect(audit).toEqual(
      expect.arrayContaining([
        ['conference.screen-share-policy', 'denied', undefined],
        ['conference.screen-share-policy', 'success', { allowMultiple: true }],
        [
          'conference.screen-share-started',
          'success',
          { participantId: sato.participantId, producerId: share.producerId },
        ],
        [
          'conference.screen-share-stopped',
          'success',
          { participantId: sato.participantId, producerId: share.producerId },
        ],
      ]),
    );
  });

  it("pauses and resumes a receiver's consumer and picks its layer, and shows the host everyone's media", async () => {
    const tanaka = await participant('tanaka');
    const sato = await participant('sato');
    const camera = await produceCamera(sato, 3000);
    const consumer = await request(tanaka.client, 'consumer:create', { producerId: camera.producerId });
    await request(tanaka.client, 'consumer:resume', { consumerId: consumer.consumerId });

    const consumerAtSfu = async () => {
      const stats = await system.sfu.routers.stats(DEMO_SESSION_ID, { detail: true });
      const media = stats.participantMedia?.find((one) => one.participantId === tanaka.participantId);
      return { paused: stats.pausedConsumers, consumer: media?.consumers[0] };
    };
    expect(await consumerAtSfu()).toMatchObject({ paused: 0, consumer: { paused: false } });

    await request(tanaka.client, 'consumer:pause', { consumerId: consumer.consumerId });
    expect(await consumerAtSfu()).toMatchObject({ paused: 1, consumer: { paused: true } });
    await request(tanaka.client, 'consumer:layers', { consumerId: consumer.consumerId, spatialLayer: 0 });
    expect((await consumerAtSfu()).consumer).toMatchObject({
      preferredSpatialLayer: 0,
      source: 'camera',
      producerParticipantId: sato.participantId,
    });
    await request(tanaka.client, 'consumer:resume', { consumerId: consumer.consumerId });
    expect(await consumerAtSfu()).toMatchObject({ paused: 0, consumer: { paused: false } });

    // Nobody pauses or steers another participant's consumer.
    expect(await send(sato.client, 'consumer:pause', { consumerId: consumer.consumerId })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    expect(
      await send(sato.client, 'consumer:layers', { consumerId: consumer.consumerId, spatialLayer: 3 }),
    ).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });

    // The host sees every participant's producers and consumers; nobody else does.
    const report = await request(tanaka.client, 'session:media-stats', {});
    expect(report.consumers).toBe(1);
    expect(report.participants.map((one) => one.participantId).sort()).toEqual(
      [tanaka.participantId, sato.participantId].sort(),
    );
    expect(report.participants.find((one) => one.participantId === sato.participantId)?.producers).toEqual([
      expect.objectContaining({ producerId: camera.producerId, source: 'camera', kind: 'video', paused: false }),
    ]);
    expect(await send(sato.client, 'session:media-stats', {})).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(await auditActions(5)).toContainEqual(['conference.media-stats', 'denied', undefined]);
  });

  it('answers media controls before joining with conflict', async () => {
    const client = await system.connect('suzuki');
    clients.push(client);
    for (const ack of [
      await send(client, 'consumer:pause', { consumerId: 'c1' }),
      await send(client, 'screenShare:policy', {}),
      await send(client, 'session:media-stats', {}),
    ]) {
      expect(ack).toMatchObject({ ok: false, error: { code: 'conflict' } });
    }
  });
});
