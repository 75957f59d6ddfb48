import type { LinkProfile } from './link-schedule.ts';

/**
 * The links the island-link tests and `npm run bench:links` put between a remote site and the
 * servers (issue 7's table). `link` is what the impairment relay does to every packet;
 * `firewall` what the lab's iptables let out of the site; `outagesMs` the cuts the test makes,
 * one after another, restoring the link in between.
 */
export interface IslandLinkProfile {
  name: string;
  /** Words for the test's printout. */
  description: string;
  link: LinkProfile;
  /**
   * `udp-blocked`: every UDP packet dropped, any TCP let out. `tcp-443-only`: every UDP packet
   * dropped, TCP only to port 443 and to the web and signaling ports — which in production sit
   * behind the hospital's HTTPS proxy on 443, so a site whose firewall allows only 443 still
   * reaches them; in the lab they keep their own ports.
   */
  firewall: 'open' | 'udp-blocked' | 'tcp-443-only';
  outagesMs?: number[];
}

export const islandLinkProfiles = {
  /** No shaping at all: the baseline each figure is compared with, in the same run. */
  unshaped: {
    name: 'unshaped',
    description: 'unshaped (relay only, no delay, no loss)',
    link: { name: 'unshaped', roundTripMs: 0 },
    firewall: 'open',
  },
  geoSatellite: {
    name: 'geo-satellite',
    description: 'GEO satellite: 600 ms RTT, 1 Mbit/s each way, 1 % random loss',
    link: {
      name: 'geo-satellite',
      roundTripMs: 600,
      jitterMs: 5,
      bitsPerSecond: 1e6,
      loss: { kind: 'random', probability: 0.01 },
      // A satellite modem's deep buffer.
      queueMs: 500,
    },
    firewall: 'open',
  },
  islandLte: {
    name: 'island-lte',
    description: 'island LTE: 80 ms RTT, 3 Mbit/s, Gilbert–Elliott burst loss ≈ 2 %',
    link: {
      name: 'island-lte',
      roundTripMs: 80,
      jitterMs: 10,
      bitsPerSecond: 3e6,
      // Bad 2.4 % of the time, losing 80 % there: ≈ 1.95 %, in bursts of ~5 packets.
      loss: { kind: 'gilbert-elliott', goodToBad: 0.005, badToGood: 0.2, lossInBad: 0.8 },
    },
    firewall: 'open',
  },
  udpBlocked: {
    name: 'udp-blocked',
    description: 'hospital firewall: all UDP dropped, TCP let out (ICE over TCP to the SFU, before TURN)',
    link: { name: 'udp-blocked', roundTripMs: 20, bitsPerSecond: 20e6 },
    firewall: 'udp-blocked',
  },
  tcp443Only: {
    name: 'tcp-443-only',
    description: 'hospital firewall: all UDP dropped, TCP only to 443 (and the web/signaling front)',
    link: { name: 'tcp-443-only', roundTripMs: 20, bitsPerSecond: 20e6 },
    firewall: 'tcp-443-only',
  },
  outage: {
    name: 'outage',
    description: 'link down for 5 s, 25 s and 84 s, restored in between (20 ms RTT otherwise)',
    link: { name: 'outage', roundTripMs: 20, bitsPerSecond: 20e6 },
    firewall: 'open',
    outagesMs: [5_000, 25_000, 84_000],
  },
} as const satisfies Record<string, IslandLinkProfile>;

export type IslandLinkProfileName = keyof typeof islandLinkProfiles;
