import { describe, expect, it } from 'vitest';
import { qualityLevel, readRtp, rtpRate, worst, type StatsEntry } from './connection-quality.ts';

const pair: StatsEntry = { type: 'candidate-pair', state: 'succeeded', nominated: true, currentRoundTripTime: 0.042 };

describe('reading WebRTC statistics', () => {
  it('sums a consumer’s inbound stream with the transport’s round trip', () => {
    const reading = readRtp(
      [
        {
          type: 'inbound-rtp',
          timestamp: 10_000,
          bytesReceived: 50_000,
          packetsReceived: 90,
          packetsLost: 10,
          frameHeight: 180,
        },
        pair,
        { type: 'codec', mimeType: 'video/VP8' },
      ],
      'inbound',
    );
    expect(reading).toEqual({
      timestamp: 10_000,
      bytes: 50_000,
      packets: 90,
      packetsLost: 10,
      frameHeight: 180,
      roundTripTimeMs: 42,
    });
  });

  it('sums every simulcast stream a producer sends, with loss from the remote reports', () => {
    const reading = readRtp(
      [
        { type: 'outbound-rtp', timestamp: 5_000, bytesSent: 1_000, packetsSent: 10, frameHeight: 180 },
        { type: 'outbound-rtp', timestamp: 5_000, bytesSent: 3_000, packetsSent: 20, frameHeight: 720 },
        { type: 'remote-inbound-rtp', packetsLost: 2, roundTripTime: 0.08 },
        { type: 'remote-inbound-rtp', packetsLost: 1, roundTripTime: 0.1 },
      ],
      'outbound',
    );
    expect(reading).toMatchObject({
      bytes: 4_000,
      packets: 30,
      packetsLost: 3,
      frameHeight: 720,
      roundTripTimeMs: 100,
    });
  });

  it('has nothing to say without RTP statistics', () => {
    expect(readRtp([pair], 'inbound')).toBeNull();
  });

  it('turns two readings into a bitrate and a loss rate', () => {
    const before = { timestamp: 1_000, bytes: 0, packets: 0, packetsLost: 0, frameHeight: null, roundTripTimeMs: null };
    const after = { ...before, timestamp: 3_000, bytes: 250_000, packets: 95, packetsLost: 5 };
    expect(rtpRate(before, after)).toEqual({ kbps: 1000, lossPercent: 5 });
    expect(rtpRate(null, after)).toEqual({ kbps: null, lossPercent: null });
    // A reading from the same moment (or a restarted counter) gives no rate, never a negative one.
    expect(rtpRate(after, after)).toEqual({ kbps: null, lossPercent: null });
    expect(rtpRate({ ...after, timestamp: 0, bytes: 999_999 }, after).kbps).toBe(0);
  });
});

describe('the level a tile shows', () => {
  it('is good, fair or poor by loss, round trip and the media server’s score', () => {
    expect(qualityLevel({ roundTripTimeMs: null, lossPercent: null, score: null })).toBe('unknown');
    expect(qualityLevel({ roundTripTimeMs: 40, lossPercent: 0, score: 10 })).toBe('good');
    expect(qualityLevel({ roundTripTimeMs: 300, lossPercent: 0, score: null })).toBe('fair');
    expect(qualityLevel({ roundTripTimeMs: 40, lossPercent: 4, score: 10 })).toBe('fair');
    expect(qualityLevel({ roundTripTimeMs: 40, lossPercent: null, score: 5 })).toBe('fair');
    expect(qualityLevel({ roundTripTimeMs: 40, lossPercent: 12, score: 10 })).toBe('poor');
    expect(qualityLevel({ roundTripTimeMs: 800, lossPercent: 0, score: 10 })).toBe('poor');
    expect(qualityLevel({ roundTripTimeMs: null, lossPercent: null, score: 2 })).toBe('poor');
  });

  it('takes the worse of two figures', () => {
    expect(worst(null, null)).toBeNull();
    expect(worst(3, null)).toBe(3);
    expect(worst(3, 7)).toBe(7);
  });
});
