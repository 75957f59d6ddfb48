import { describe, expect, it } from 'vitest';
import { carriedPath } from './connectivity-stats.ts';

const localTcp = { id: 'L1', type: 'local-candidate', protocol: 'tcp', candidateType: 'host' };
const localUdp = { id: 'L2', type: 'local-candidate', protocol: 'udp', candidateType: 'host' };

describe('the path a probe took, from getStats', () => {
  it('follows the transport’s selected pair to its local candidate', () => {
    const report = [
      { id: 'T', type: 'transport', selectedCandidatePairId: 'P2' },
      { id: 'P1', type: 'candidate-pair', localCandidateId: 'L2', nominated: true, state: 'succeeded' },
      { id: 'P2', type: 'candidate-pair', localCandidateId: 'L1', state: 'succeeded', currentRoundTripTime: 0.0123 },
      localTcp,
      localUdp,
    ];
    expect(carriedPath(report)).toEqual({
      protocol: 'tcp',
      candidateType: 'host',
      relayProtocol: null,
      roundTripMs: 12,
    });
  });

  it('falls back to the nominated succeeded pair and the average round trip', () => {
    const report = new Map(
      [
        { id: 'T', type: 'transport' },
        { id: 'P1', type: 'candidate-pair', localCandidateId: 'L2', nominated: false, state: 'failed' },
        {
          id: 'P2',
          type: 'candidate-pair',
          localCandidateId: 'L3',
          nominated: true,
          state: 'succeeded',
          totalRoundTripTime: 0.3,
          responsesReceived: 3,
        },
        { id: 'L3', type: 'local-candidate', protocol: 'udp', candidateType: 'relay', relayProtocol: 'tls' },
      ].map((entry) => [entry.id, entry]),
    );
    expect(carriedPath(report.values())).toEqual({
      protocol: 'udp',
      candidateType: 'relay',
      relayProtocol: 'tls',
      roundTripMs: 100,
    });
  });

  it('finds nothing when no pair succeeded', () => {
    expect(carriedPath([{ id: 'P1', type: 'candidate-pair', state: 'in-progress' }, localUdp])).toBeNull();
    expect(carriedPath([])).toBeNull();
  });
});
