import type { types } from 'mediasoup';

/**
 * What every session Router offers: Opus for voice (in-band FEC on, so lost packets on island
 * links are concealed) and VP8 for camera video, which every browser can send with simulcast.
 */
export const routerMediaCodecs: types.RouterRtpCodecCapability[] = [
  {
    kind: 'audio',
    mimeType: 'audio/opus',
    clockRate: 48000,
    channels: 2,
    parameters: { useinbandfec: 1, usedtx: 1 },
  },
  {
    kind: 'video',
    mimeType: 'video/VP8',
    clockRate: 90000,
    parameters: { 'x-google-start-bitrate': 600 },
  },
];
