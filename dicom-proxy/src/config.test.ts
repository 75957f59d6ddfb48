import { describe, expect, it } from 'vitest';
import { readDicomProxyConfig } from './config.ts';

describe('dicom-proxy configuration', () => {
  it('refuses to run unaudited unless told so explicitly', () => {
    expect(() => readDicomProxyConfig({})).toThrow(/REDIS_URL: required: every image access is audited/);
    expect(readDicomProxyConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).DICOM_AUDIT).toBe('redis');
    expect(readDicomProxyConfig({ DICOM_AUDIT: 'off' }).DICOM_AUDIT).toBe('off');
    expect(() => readDicomProxyConfig({ DICOM_AUDIT: 'maybe', REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(
      /DICOM_AUDIT/,
    );
  });
});
