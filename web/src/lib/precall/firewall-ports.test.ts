import { describe, expect, it } from 'vitest';
import type { ProbeOutcome } from './connectivity-probe.ts';
import { firewallRules, portRanges, turnsHostAndPort } from './firewall-ports.ts';

const probe = (path: 'udp' | 'tcp', result: ProbeOutcome['result'] = 'ok'): ProbeOutcome => ({
  path,
  result,
  carried: null,
  endpoints: [{ protocol: path, address: '203.0.113.7', port: 40001 }],
  mediaPorts: [40000, 40001, 40002, 40003],
});

describe('the port list for the hospital’s IT department', () => {
  it('writes port runs as ranges', () => {
    expect(portRanges([40002, 40000, 40001])).toBe('40000–40002');
    expect(portRanges([40000, 40005, 40006, 40000])).toBe('40000, 40005–40006');
    expect(portRanges([3478])).toBe('3478');
    expect(portRanges([])).toBe('');
  });

  it('lists web, signaling and the media ports the probes saw, even when a probe did not get through', () => {
    const rules = firewallRules({
      webOrigin: 'https://telemed.example.jp',
      signalingUrl: 'https://telemed.example.jp:3001',
      outcomes: {
        udp: probe('udp', 'failed'),
        tcp: probe('tcp'),
        'turn-tls': { path: 'turn-tls', result: 'unavailable', carried: null, endpoints: [], mediaPorts: [] },
      },
    });
    expect(rules).toEqual([
      { purpose: 'web', transport: 'TCP', host: 'telemed.example.jp', ports: '443', status: 'known' },
      { purpose: 'signaling', transport: 'TCP', host: 'telemed.example.jp', ports: '3001', status: 'known' },
      { purpose: 'media-udp', transport: 'UDP', host: '203.0.113.7', ports: '40000–40003', status: 'known' },
      { purpose: 'media-tcp', transport: 'TCP', host: '203.0.113.7', ports: '40000–40003', status: 'known' },
      { purpose: 'turn-tls', transport: 'TCP', host: null, ports: null, status: 'not-configured' },
    ]);
  });

  it('lists the TURN server a relayed probe was given', () => {
    const rules = firewallRules({
      webOrigin: 'https://telemed.example.jp',
      signalingUrl: 'https://telemed.example.jp:3001',
      outcomes: {
        'turn-tls': {
          path: 'turn-tls',
          result: 'failed',
          carried: null,
          endpoints: [],
          mediaPorts: [],
          turnUrls: ['turns:turn.example.jp:443?transport=tcp'],
        },
      },
    });
    expect(rules.at(-1)).toEqual({
      purpose: 'turn-tls',
      transport: 'TCP',
      host: 'turn.example.jp',
      ports: '443',
      status: 'known',
    });
    expect(turnsHostAndPort('turns:[2001:db8::1]:5349')).toEqual({ host: '2001:db8::1', port: '5349' });
    expect(turnsHostAndPort('turns:turn.example.jp')).toEqual({ host: 'turn.example.jp', port: '443' });
    expect(turnsHostAndPort('turn:turn.example.jp:3478')).toBeNull();
  });

  it('says what it does not know when the check could not ask the server', () => {
    const rules = firewallRules({
      webOrigin: 'http://localhost:3000',
      signalingUrl: 'http://localhost:3001',
      outcomes: { udp: { ...probe('udp', 'error'), endpoints: [], mediaPorts: [] } },
    });
    expect(rules.map((rule) => [rule.purpose, rule.ports, rule.status])).toEqual([
      ['web', '3000', 'known'],
      ['signaling', '3001', 'known'],
      ['media-udp', null, 'unknown'],
      ['media-tcp', null, 'unknown'],
      ['turn-tls', null, 'unknown'],
    ]);
  });
});
