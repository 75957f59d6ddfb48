import { describe, expect, it } from 'vitest';
import { readSfuConfig } from './config.ts';

const required = { SFU_RPC_SECRET: 'sfu-config-test-secret-0123456789abcdef' };

describe('the SFU’s media listening address', () => {
  it('listens on a loopback announced address itself, so UDP replies come from the address browsers sent to', () => {
    expect(readSfuConfig(required).SFU_LISTEN_IP).toBe('127.0.0.1');
    expect(readSfuConfig({ ...required, SFU_ANNOUNCED_ADDRESS: '127.0.0.2' }).SFU_LISTEN_IP).toBe('127.0.0.2');
    expect(readSfuConfig({ ...required, SFU_ANNOUNCED_ADDRESS: 'localhost' }).SFU_LISTEN_IP).toBe('127.0.0.1');
  });

  it('listens on every interface for a real announced address, unless told otherwise', () => {
    expect(readSfuConfig({ ...required, SFU_ANNOUNCED_ADDRESS: '10.0.0.5' }).SFU_LISTEN_IP).toBe('0.0.0.0');
    expect(readSfuConfig({ ...required, SFU_ANNOUNCED_ADDRESS: 'telemed.example.jp' }).SFU_LISTEN_IP).toBe('0.0.0.0');
    expect(readSfuConfig({ ...required, SFU_LISTEN_IP: '0.0.0.0' }).SFU_LISTEN_IP).toBe('0.0.0.0');
    expect(
      readSfuConfig({ ...required, SFU_ANNOUNCED_ADDRESS: '10.0.0.5', SFU_LISTEN_IP: '10.0.0.5' }).SFU_LISTEN_IP,
    ).toBe('10.0.0.5');
  });
});

describe('the SFU’s extra listening addresses', () => {
  it('are none by default, and a comma-separated list when given', () => {
    expect(readSfuConfig(required).SFU_EXTRA_LISTEN_IPS).toEqual([]);
    expect(readSfuConfig({ ...required, SFU_EXTRA_LISTEN_IPS: '10.210.3.1, 10.210.3.5' }).SFU_EXTRA_LISTEN_IPS).toEqual(
      ['10.210.3.1', '10.210.3.5'],
    );
  });
});
