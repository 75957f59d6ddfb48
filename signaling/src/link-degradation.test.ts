import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RtpParameters } from '@telemed/contract';
import { DEMO_SESSION_ID } from '@telemed/domain';
import { CONSUMER_PRIORITY } from '../../sfu/src/forwarding-priority.ts';
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

/**
 * The SFU's side of degrading in order, on the real SFU and two signaling nodes: voices get the
 * highest forwarding priority and the joint read's presenter's video the next; each sender hears
 * the highest simulcast layer anyone receives of its camera (whichever node the receivers are
 * on), so it stops sending the layers above; Opus is offered with in-band FEC, DTX and NACK.
 */

const opus = (ssrc: number): RtpParameters => ({
  mid: '0',
  codecs: [
    {
      mimeType: 'audio/opus',
      payloadType: 111,
      clockRate: 48000,
      channels: 2,
      parameters: { useinbandfec: 1, usedtx: 1 },
      rtcpFeedback: [{ type: 'nack' }, { type: 'transport-cc' }],
    },
  ],
  encodings: [{ ssrc }],
  rtcp: { cname: `cname-${ssrc}`, reducedSize: true },
});

describe('degrading in order at the SFU', () => {
  let system: ConferenceTestSystem;
  const clients: ConferenceClient[] = [];

  const participant = async (username: string, node: number) => {
    const client = await system.connect(username, { node });
    clients.push(client);
    const joined = await joinDemo(client);
    const sending = await request(client, 'transport:create', { direction: 'send' });
    await request(client, 'transport:create', { direction: 'recv' });
    return { client, participantId: joined.self.participantId, transportId: sending.id };
  };

  /** Every `producer:layers-needed` a client hears, in order. */
  const layerDemands = (client: ConferenceClient) => {
    const heard: { producerId: string; spatialLayer: number | null }[] = [];
    client.on('producer:layers-needed', (demand) => heard.push(demand));
    return heard;
  };

  const consumersAtSfu = async (participantId: string) => {
    const stats = await system.sfu.routers.stats(DEMO_SESSION_ID, { detail: true });
    return stats.participantMedia?.find((one) => one.participantId === participantId)?.consumers ?? [];
  };

  beforeAll(async () => {
    system = await startConferenceTestSystem({ signalingNodes: 2 });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await expect.poll(() => system.redis.hLen(`conference:${DEMO_SESSION_ID}:participants`)).toBe(0);
  });
  afterAll(async () => {
    await system?.close();
  });

  it('offers Opus with in-band FEC, DTX and NACK', async () => {
    const tanaka = await participant('tanaka', 0);
    const { routerRtpCapabilities } = await request(tanaka.client, 'session:capabilities', {
      sessionId: DEMO_SESSION_ID,
    });
    const opusCodec = routerRtpCapabilities.codecs?.find((codec) => codec.mimeType === 'audio/opus');
    expect(opusCodec?.parameters).toMatchObject({ useinbandfec: 1, usedtx: 1 });
    expect(opusCodec?.rtcpFeedback).toContainEqual({ type: 'nack', parameter: '' });

    const sato = await participant('sato', 1);
    const microphone = await request(sato.client, 'producer:create', {
      transportId: sato.transportId,
      kind: 'audio',
      source: 'microphone',
      rtpParameters: opus(5000),
    });
    const consumer = await request(tanaka.client, 'consumer:create', { producerId: microphone.producerId });
    const [codec] = consumer.rtpParameters.codecs;
    expect(codec?.rtcpFeedback).toContainEqual({ type: 'nack', parameter: '' });
    expect(codec?.parameters).toMatchObject({ useinbandfec: 1, usedtx: 1 });
  });

  it('holds a site’s transports to its link profile from the start, and follows a change', async () => {
    // Sato's island clinic is on a backup line the coordinator entered; Tanaka's university is not capped.
    const before = (await system.sites.get('aoshima'))!.linkProfile;
    await system.sites.setLinkProfile('aoshima', { kind: 'custom', upKbps: 96, downKbps: 128 });
    try {
      const tanaka = await participant('tanaka', 0);
      const sato = await participant('sato', 1);
      const caps = async () => {
        const stats = await system.sfu.routers.stats(DEMO_SESSION_ID, { detail: true });
        const of = (participantId: string) => {
          const media = stats.participantMedia?.find((one) => one.participantId === participantId);
          return { down: media?.downlinkCapBitrate, up: media?.uplinkCapBitrate };
        };
        return { tanaka: of(tanaka.participantId), sato: of(sato.participantId) };
      };
      expect(await caps()).toEqual({ tanaka: { down: null, up: null }, sato: { down: 128_000, up: 96_000 } });
      // A rebuilt transport reads the profile again.
      await system.sites.setLinkProfile('aoshima', { kind: 'satellite' });
      await request(sato.client, 'transport:create', { direction: 'recv' });
      expect((await caps()).sato).toEqual({ down: 1_000_000, up: 96_000 });
    } finally {
      await system.sites.setLinkProfile('aoshima', before);
    }
  });

  it('forwards voices first, then the presenter’s video, then everyone else’s', async () => {
    const tanaka = await participant('tanaka', 0);
    const sato = await participant('sato', 1);
    const suzuki = await participant('suzuki', 0);
    const produce = async (who: typeof sato, ssrc: number) => ({
      microphone: await request(who.client, 'producer:create', {
        transportId: who.transportId,
        kind: 'audio',
        source: 'microphone',
        rtpParameters: opus(ssrc),
      }),
      camera: await produceCamera(who, ssrc + 10),
    });
    const satoMedia = await produce(sato, 6000);
    const suzukiMedia = await produce(suzuki, 7000);
    for (const { producerId } of [satoMedia.microphone, satoMedia.camera, suzukiMedia.microphone, suzukiMedia.camera]) {
      await request(tanaka.client, 'consumer:create', { producerId });
    }
    const priorities = async () =>
      Object.fromEntries(
        (await consumersAtSfu(tanaka.participantId)).map((consumer) => [
          `${consumer.producerParticipantId === sato.participantId ? 'sato' : 'suzuki'}:${consumer.source}`,
          consumer.priority,
        ]),
      );
    expect(await priorities()).toEqual({
      'sato:microphone': CONSUMER_PRIORITY.audio,
      'sato:camera': CONSUMER_PRIORITY.otherVideo,
      'suzuki:microphone': CONSUMER_PRIORITY.audio,
      'suzuki:camera': CONSUMER_PRIORITY.otherVideo,
    });

    // Sato presents the joint read (on the other node): his camera comes before Suzuki's.
    await request(sato.client, 'jointRead:presenter', { action: 'request' });
    await expect.poll(priorities).toMatchObject({
      'sato:camera': CONSUMER_PRIORITY.presenterVideo,
      'suzuki:camera': CONSUMER_PRIORITY.otherVideo,
    });
    // Handed to Suzuki by the host: the priorities follow.
    await request(tanaka.client, 'jointRead:presenter', { action: 'grant', participantId: suzuki.participantId });
    await expect.poll(priorities).toMatchObject({
      'sato:camera': CONSUMER_PRIORITY.otherVideo,
      'suzuki:camera': CONSUMER_PRIORITY.presenterVideo,
    });
    await request(suzuki.client, 'jointRead:presenter', { action: 'release' });
    await expect.poll(priorities).toMatchObject({ 'suzuki:camera': CONSUMER_PRIORITY.otherVideo });
    // A shared screen is the presenter's video whoever shares it.
    const screen = await request(suzuki.client, 'producer:create', {
      transportId: suzuki.transportId,
      kind: 'video',
      source: 'screen',
      rtpParameters: { ...vp8Simulcast(7100), mid: '2', encodings: [{ ssrc: 7100 }] },
    });
    await request(tanaka.client, 'consumer:create', { producerId: screen.producerId });
    expect((await priorities())['suzuki:screen']).toBe(CONSUMER_PRIORITY.presenterVideo);
  });

  it('tells the sender the highest layer anyone receives of its camera, across signaling nodes', async () => {
    const sato = await participant('sato', 1);
    const heard = layerDemands(sato.client);
    const tanaka = await participant('tanaka', 0);
    const suzuki = await participant('suzuki', 1);
    const camera = await produceCamera(sato, 8000);
    const latest = () => heard.filter((demand) => demand.producerId === camera.producerId).at(-1)?.spatialLayer;

    // Nobody receives it yet: after a moment the sender keeps only its lowest layer.
    await expect.poll(latest, { timeout: 6_000 }).toBe(null);

    // Tanaka's thumbnail takes the lowest layer, Suzuki's main tile the middle one.
    const tanakaConsumer = await request(tanaka.client, 'consumer:create', { producerId: camera.producerId });
    await request(tanaka.client, 'consumer:layers', { consumerId: tanakaConsumer.consumerId, spatialLayer: 0 });
    await request(tanaka.client, 'consumer:resume', { consumerId: tanakaConsumer.consumerId });
    await expect.poll(latest).toBe(0);
    const suzukiConsumer = await request(suzuki.client, 'consumer:create', { producerId: camera.producerId });
    await request(suzuki.client, 'consumer:layers', { consumerId: suzukiConsumer.consumerId, spatialLayer: 1 });
    await request(suzuki.client, 'consumer:resume', { consumerId: suzukiConsumer.consumerId });
    await expect.poll(latest).toBe(1);
    // Suzuki's link gives way (her tile paused): back to the lowest layer after the hold.
    await request(suzuki.client, 'consumer:pause', { consumerId: suzukiConsumer.consumerId });
    await expect.poll(latest, { timeout: 6_000 }).toBe(0);
    // A full-size tile wants the top layer: told at once.
    await request(tanaka.client, 'consumer:layers', { consumerId: tanakaConsumer.consumerId, spatialLayer: 2 });
    await expect.poll(latest).toBe(2);
    // Tanaka leaves: nobody receives it.
    await request(tanaka.client, 'session:leave', {});
    await expect.poll(latest, { timeout: 6_000 }).toBe(null);

    // Only the sender hears about its own camera.
    const overheard = layerDemands(suzuki.client);
    await request(suzuki.client, 'consumer:resume', { consumerId: suzukiConsumer.consumerId });
    await expect.poll(latest).toBe(1);
    expect(overheard).toEqual([]);
  });

  it('tells each browser its own downlink as the SFU measures it', async () => {
    const stranger = await system.connect('suzuki', { node: 1 });
    clients.push(stranger);
    // Not in a session: a typed refusal, not a crash.
    expect(await send(stranger, 'link:downlink', {})).toMatchObject({ ok: false, error: { code: 'conflict' } });
    // Bad input is refused at the boundary.
    expect(await send(stranger, 'link:downlink', { participantId: 'someone' } as never)).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });

    const sato = await participant('sato', 1);
    const tanaka = await participant('tanaka', 0);
    const camera = await produceCamera(sato, 9000);
    const consumer = await request(tanaka.client, 'consumer:create', { producerId: camera.producerId });
    await request(tanaka.client, 'consumer:resume', { consumerId: consumer.consumerId });
    // No browser is behind this transport (no DTLS, no feedback): nothing lost yet (the
    // browser tests read real figures: e2e/island-links).
    expect(await request(tanaka.client, 'link:downlink', {})).toEqual({ lossPercent: 0 });
  });

  it('tells the others a site’s link level as it changes, and those who join later', async () => {
    const sato = await participant('sato', 1);
    const tanaka = await participant('tanaka', 0);
    const heard: { participantId: string; level: string }[] = [];
    tanaka.client.on('participant:link', (event) => heard.push(event));

    const told = nextEvent(tanaka.client, 'participant:link');
    await request(sato.client, 'link:level', { level: 'audio-only' });
    expect(await told).toEqual({ participantId: sato.participantId, level: 'audio-only' });
    // The same level again is no news.
    await request(sato.client, 'link:level', { level: 'audio-only' });
    // Suzuki joins later, on the other node: she learns Sato's level from the join.
    const suzuki = await system.connect('suzuki', { node: 1 });
    clients.push(suzuki);
    const joined = await joinDemo(suzuki);
    expect(joined.linkLevels).toEqual({ [sato.participantId]: 'audio-only' });
    expect(heard).toHaveLength(1);

    // Sato's link recovers: told, and a site at full video is left out of the join.
    await request(sato.client, 'link:level', { level: 'full' });
    await expect.poll(() => heard.at(-1)).toEqual({ participantId: sato.participantId, level: 'full' });
    await request(suzuki, 'session:leave', {});
    expect((await joinDemo(suzuki)).linkLevels).toEqual({});
    // Not a level: refused at the boundary.
    expect(await send(sato.client, 'link:level', { level: 'poor' } as never)).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
  });
});
