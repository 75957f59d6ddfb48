import { describe, expect, it } from 'vitest';
import { readSignalingConfig } from './config.ts';

const required = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  AUTH_SECRET: 'a'.repeat(32),
  SFU_RPC_SECRET: 'b'.repeat(32),
};

describe('signaling settings', () => {
  it('holds a dropped participant for 30 s and takes a link for dead after 10 s + 10 s by default', () => {
    expect(readSignalingConfig(required)).toMatchObject({
      SIGNALING_RESUME_GRACE_MS: 30_000,
      SIGNALING_PING_INTERVAL_MS: 10_000,
      SIGNALING_PING_TIMEOUT_MS: 10_000,
    });
  });

  it('refuses a ping timeout too short for a satellite link, and a grace period that is not a number', () => {
    expect(() => readSignalingConfig({ ...required, SIGNALING_PING_TIMEOUT_MS: '500' })).toThrow();
    expect(() => readSignalingConfig({ ...required, SIGNALING_RESUME_GRACE_MS: 'soon' })).toThrow();
  });
});
