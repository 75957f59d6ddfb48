import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Proves the offline-built worker (and its libsrtp and SCTP code paths) on real traffic: RTP
 * goes Node → DirectTransport → Router A → PlainTransport (SRTP-protected by the worker) →
 * UDP → PlainTransport on Router B (SRTP-unprotected by the worker) → DirectTransport → Node,
 * for every SRTP profile and packet sizes up to 1,400 bytes of payload. DataChannel messages
 * take the same way over SCTP.
 */

const SRTP_SUITES: types.SrtpCryptoSuite[] = [
  'AEAD_AES_256_GCM',
  'AEAD_AES_128_GCM',
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
];
const PAYLOAD_SIZES = [1, 100, 500, 1000, 1200, 1300, 1350, 1380, 1400];
const SSRC = 0x11223344;
const PAYLOAD_TYPE = 100;

const mediaCodecs: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
];

/** A minimal RTP packet: 12-byte header (V=2, marker off) and the payload. */
function rtpPacket(sequence: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = PAYLOAD_TYPE;
  header.writeUInt16BE(sequence, 2);
  header.writeUInt32BE(sequence * 960, 4);
  header.writeUInt32BE(SSRC, 8);
  return Buffer.concat([header, payload]);
}

/** The payload of an RTP packet, past CSRCs and any header extension the SFU added. */
function rtpPayload(packet: Buffer): Buffer {
  const csrcCount = packet[0]! & 0x0f;
  let offset = 12 + csrcCount * 4;
  if (packet[0]! & 0x10) offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  const padding = packet[0]! & 0x20 ? packet[packet.length - 1]! : 0;
  return packet.subarray(offset, packet.length - padding);
}

function payloadOf(size: number, seed: number): Buffer {
  const payload = Buffer.alloc(size);
  for (let index = 0; index < size; index++) payload[index] = (index * 31 + seed * 7) & 0xff;
  return payload;
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Two routers joined by a pair of SRTP (+SCTP) PlainTransports over loopback UDP. */
async function linkedRouters(worker: types.Worker, srtpCryptoSuite: types.SrtpCryptoSuite) {
  const routerA = await worker.createRouter({ mediaCodecs });
  const routerB = await worker.createRouter({ mediaCodecs });
  const plainOptions: types.PlainTransportOptions = {
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
    rtcpMux: true,
    comedia: false,
    enableSrtp: true,
    srtpCryptoSuite,
    enableSctp: true,
  };
  const plainA = await routerA.createPlainTransport(plainOptions);
  const plainB = await routerB.createPlainTransport(plainOptions);
  await plainA.connect({ ip: '127.0.0.1', port: plainB.tuple.localPort, srtpParameters: plainB.srtpParameters });
  await plainB.connect({ ip: '127.0.0.1', port: plainA.tuple.localPort, srtpParameters: plainA.srtpParameters });
  return { routerA, routerB, plainA, plainB, close: () => (routerA.close(), routerB.close()) };
}

describe('the offline-built mediasoup worker', () => {
  let worker: types.Worker;

  beforeAll(async () => {
    worker = await mediasoup.createWorker({ logLevel: 'warn' });
  });
  afterAll(() => worker?.close());

  it.each(SRTP_SUITES)('forwards RTP through SRTP (%s), byte for byte, up to 1,400-byte payloads', async (suite) => {
    const { routerA, routerB, plainA, plainB, close } = await linkedRouters(worker, suite);
    try {
      const directA = await routerA.createDirectTransport();
      const producer = await directA.produce({
        kind: 'audio',
        rtpParameters: {
          codecs: [{ mimeType: 'audio/opus', payloadType: PAYLOAD_TYPE, clockRate: 48000, channels: 2 }],
          encodings: [{ ssrc: SSRC }],
        },
      });
      const consumerA = await plainA.consume({ producerId: producer.id, rtpCapabilities: routerA.rtpCapabilities });
      const producerB = await plainB.produce({ kind: 'audio', rtpParameters: consumerA.rtpParameters });
      const directB = await routerB.createDirectTransport();
      const consumerB = await directB.consume({ producerId: producerB.id, rtpCapabilities: routerB.rtpCapabilities });
      const received: Buffer[] = [];
      consumerB.on('rtp', (packet) => received.push(rtpPayload(packet)));

      const sent = PAYLOAD_SIZES.flatMap((size) => [payloadOf(size, 1), payloadOf(size, 2), payloadOf(size, 3)]);
      for (const [index, payload] of sent.entries()) {
        producer.send(rtpPacket(index + 1, payload));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await waitFor(() => received.length >= sent.length);
      expect(received.map((payload) => payload.length)).toEqual(sent.map((payload) => payload.length));
      expect(received.every((payload, index) => payload.equals(sent[index]!))).toBe(true);

      const stats = await plainB.getStats();
      expect(stats[0]?.rtpPacketLossReceived ?? 0).toBe(0);
    } finally {
      close();
    }
  });

  it('carries DataChannel messages over SCTP between two transports', async () => {
    const { routerA, routerB, plainA, plainB, close } = await linkedRouters(worker, 'AES_CM_128_HMAC_SHA1_80');
    try {
      const directA = await routerA.createDirectTransport();
      const dataProducer = await directA.produceData({ label: 'joint-read' });
      const dataConsumerA = await plainA.consumeData({ dataProducerId: dataProducer.id });
      const dataProducerB = await plainB.produceData({
        sctpStreamParameters: dataConsumerA.sctpStreamParameters!,
        label: dataConsumerA.label,
      });
      const directB = await routerB.createDirectTransport();
      const dataConsumerB = await directB.consumeData({ dataProducerId: dataProducerB.id });
      const messages: string[] = [];
      dataConsumerB.on('message', (message, ppid) => {
        if (ppid === 51) messages.push(message.toString('utf8'));
      });
      await waitFor(() => plainA.sctpState === 'connected' && plainB.sctpState === 'connected');

      const sent = ['スライス 120/300', JSON.stringify({ windowCenter: 40, windowWidth: 400 }), 'x'.repeat(8000)];
      for (const message of sent) dataProducer.send(message);
      await waitFor(() => messages.length >= sent.length);
      expect(messages).toEqual(sent);
    } finally {
      close();
    }
  });
});
