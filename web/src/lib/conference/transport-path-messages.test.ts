import { describe, expect, it } from 'vitest';
import { transportPaths } from '@telemed/contract';
import { languages } from '#lib/i18n.ts';
import { transportPathLabel, transportPathsLabel } from './transport-path-messages.ts';

describe('the words for a call’s path to the media server', () => {
  it('name every path differently, in both languages', () => {
    for (const language of languages) {
      const labels = transportPaths.map((path) => transportPathLabel(language, path));
      expect(new Set(labels).size).toBe(transportPaths.length);
    }
    expect(transportPathLabel('ja', 'turn-tls')).toBe('TURN 中継（TLS）');
    expect(transportPathLabel('en', null)).toBe('—');
  });

  it('say one path when both transports agree, or only one is known, else both', () => {
    expect(transportPathsLabel('en', { send: 'udp', recv: 'udp' })).toBe('UDP (direct)');
    expect(transportPathsLabel('en', { send: null, recv: 'tcp' })).toBe('TCP (direct)');
    expect(transportPathsLabel('en', { send: 'turn-tls', recv: 'udp' })).toBe(
      'send TURN relay (TLS) / receive UDP (direct)',
    );
    expect(transportPathsLabel('ja', undefined)).toBe('—');
  });
});
