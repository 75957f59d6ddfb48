import { connectivityPaths } from '@telemed/contract';
import { describe, expect, it } from 'vitest';
import { languages } from '#lib/i18n.ts';
import type { ProbeResult } from './connectivity-probe.ts';
import type { DeviceStatus } from './device-status.ts';
import type { FirewallPurpose } from './firewall-ports.ts';
import {
  deviceStatusText,
  firewallPurposeText,
  pathLabel,
  precallMessages,
  probeResultText,
} from './precall-messages.ts';

const results: (ProbeResult | 'testing')[] = ['testing', 'ok', 'failed', 'unavailable', 'error'];
const purposes: FirewallPurpose[] = ['web', 'signaling', 'media-udp', 'media-tcp', 'turn-tls'];
const problems: DeviceStatus[] = ['denied', 'missing', 'busy', 'failed'];

describe('the pre-call check’s words', () => {
  it('has every text in both languages, and Japanese by default', () => {
    const [ja, en] = [precallMessages('ja'), precallMessages('en')];
    expect(Object.keys(en).sort()).toEqual(Object.keys(ja).sort());
    for (const words of [ja, en]) for (const text of Object.values(words)) expect(text.trim()).not.toBe('');
    expect(ja.title).toBe('接続・機器の確認');
    expect(en.title).toBe('Connection and device check');
  });

  it('names every path, result, firewall purpose and device problem, distinctly, in both languages', () => {
    for (const language of languages) {
      const words = precallMessages(language);
      const distinct = (texts: string[]) => expect(new Set(texts).size).toBe(texts.length);
      distinct(connectivityPaths.map((path) => pathLabel(words, path)));
      distinct(results.map((result) => probeResultText(words, result)));
      distinct(purposes.map((purpose) => firewallPurposeText(words, purpose)));
      for (const device of ['camera', 'microphone'] as const) {
        distinct(problems.map((status) => deviceStatusText(words, device, status) ?? ''));
        expect(deviceStatusText(words, device, 'ready')).toBeNull();
        expect(deviceStatusText(words, device, 'starting')).toBe(words.starting);
      }
    }
    expect(probeResultText(precallMessages('en'), 'unavailable')).toBe('Not configured on this server');
  });
});
