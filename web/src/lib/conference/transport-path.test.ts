import { describe, expect, it } from 'vitest';
import { pathOfCarried, readTransportPath, turnTlsOnly } from './transport-path.ts';

/** A transport's statistics with one selected pair whose local candidate is `local`. */
const report = (local: Record<string, unknown>) => [
  { id: 'T', type: 'transport', selectedCandidatePairId: 'P2' },
  { id: 'P1', type: 'candidate-pair', localCandidateId: 'L0', state: 'failed' },
  { id: 'P2', type: 'candidate-pair', localCandidateId: 'L1', state: 'succeeded', nominated: true },
  { id: 'L0', type: 'local-candidate', candidateType: 'host', protocol: 'udp' },
  { id: 'L1', type: 'local-candidate', ...local },
];

describe('the path a call’s transport uses', () => {
  it('is udp or tcp when the browser reaches the SFU’s port directly', () => {
    expect(readTransportPath(report({ candidateType: 'host', protocol: 'udp' }))).toBe('udp');
    expect(readTransportPath(report({ candidateType: 'host', protocol: 'tcp' }))).toBe('tcp');
    // A NAT's mapped address is still the direct path.
    expect(readTransportPath(report({ candidateType: 'prflx', protocol: 'udp' }))).toBe('udp');
  });

  it('is turn-udp, turn-tcp or turn-tls by how the browser reaches the TURN server', () => {
    for (const [relayProtocol, path] of [
      ['udp', 'turn-udp'],
      ['tcp', 'turn-tcp'],
      ['tls', 'turn-tls'],
    ] as const) {
      expect(readTransportPath(report({ candidateType: 'relay', protocol: 'udp', relayProtocol }))).toBe(path);
    }
  });

  it('is unknown before a pair is selected, or for a relay that does not say how', () => {
    expect(readTransportPath([{ id: 'P', type: 'candidate-pair', state: 'in-progress' }])).toBeNull();
    expect(readTransportPath(report({ candidateType: 'relay', protocol: 'udp' }))).toBeNull();
    expect(pathOfCarried(null)).toBeNull();
  });

  it('falls back to the nominated succeeded pair when the transport names none', () => {
    const [, ...withoutTransport] = report({ candidateType: 'relay', protocol: 'udp', relayProtocol: 'tls' });
    expect(readTransportPath(withoutTransport)).toBe('turn-tls');
  });
});

describe('TURN over TLS only', () => {
  it('keeps the turns: URLs and drops servers left without any', () => {
    const servers = [
      { urls: ['turn:t:3478?transport=udp', 'turns:t:443?transport=tcp'], username: 'u', credential: 'c' },
      { urls: 'turn:other:3478' },
    ];
    expect(turnTlsOnly(servers)).toEqual([{ urls: ['turns:t:443?transport=tcp'], username: 'u', credential: 'c' }]);
  });
});
