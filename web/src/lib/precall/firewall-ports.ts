import type { ConnectivityPath } from '@telemed/contract';
import type { ProbeOutcome } from './connectivity-probe.ts';

/**
 * The connections a hospital PC opens to this system, as the hospital's IT department needs
 * them for its firewall: destination, protocol and ports. The web and signaling addresses come
 * from their URLs; the media address and ports from what the SFU's probe transports announced.
 * Every connection is opened from the hospital's side, so only outbound rules (with their
 * replies) are needed.
 */

export type FirewallPurpose = 'web' | 'signaling' | 'media-udp' | 'media-tcp' | 'turn-tls';

export interface FirewallRule {
  purpose: FirewallPurpose;
  transport: 'TCP' | 'UDP';
  /** Host name or address; null when not known (the check could not ask) or not configured. */
  host: string | null;
  ports: string | null;
  status: 'known' | 'unknown' | 'not-configured';
}

function urlHostAndPort(url: string): { host: string; port: string } | null {
  try {
    const parsed = new URL(url);
    const secure = parsed.protocol === 'https:' || parsed.protocol === 'wss:';
    return { host: parsed.hostname, port: parsed.port || (secure ? '443' : '80') };
  } catch {
    return null;
  }
}

/** Host and port of a `turns:host:port?transport=tcp` URL (RFC 7065); 443 when the port is left out. */
export function turnsHostAndPort(url: string): { host: string; port: string } | null {
  const match = /^turns:(\[[^\]]+\]|[^:?]+)(?::(\d+))?(?:\?.*)?$/.exec(url);
  return match ? { host: match[1]!.replace(/^\[|\]$/g, ''), port: match[2] ?? '443' } : null;
}

/** `40000–40003` for a run of ports, `40000, 40005` otherwise. */
export function portRanges(ports: readonly number[]): string {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const port of sorted) {
    const last = runs.at(-1);
    if (last && port === last[1] + 1) last[1] = port;
    else runs.push([port, port]);
  }
  return runs.map(([first, end]) => (first === end ? String(first) : `${first}–${end}`)).join(', ');
}

export function firewallRules(input: {
  webOrigin: string;
  signalingUrl: string;
  outcomes: Partial<Record<ConnectivityPath, ProbeOutcome>>;
}): FirewallRule[] {
  const fromUrl = (purpose: FirewallPurpose, url: string): FirewallRule => {
    const target = urlHostAndPort(url);
    return target
      ? { purpose, transport: 'TCP', host: target.host, ports: target.port, status: 'known' }
      : { purpose, transport: 'TCP', host: null, ports: null, status: 'unknown' };
  };
  const media = (purpose: FirewallPurpose, protocol: 'udp' | 'tcp'): FirewallRule => {
    const outcome = input.outcomes[protocol];
    const addresses = [
      ...new Set(outcome?.endpoints.filter((endpoint) => endpoint.protocol === protocol).map(({ address }) => address)),
    ];
    const transport = protocol === 'udp' ? 'UDP' : 'TCP';
    if (!outcome || addresses.length === 0 || outcome.mediaPorts.length === 0) {
      return { purpose, transport, host: null, ports: null, status: 'unknown' };
    }
    return { purpose, transport, host: addresses.join(', '), ports: portRanges(outcome.mediaPorts), status: 'known' };
  };
  const turn = input.outcomes['turn-tls'];
  const turnServers = (turn?.turnUrls ?? []).map(turnsHostAndPort).filter((server) => server !== null);
  return [
    fromUrl('web', input.webOrigin),
    fromUrl('signaling', input.signalingUrl),
    media('media-udp', 'udp'),
    media('media-tcp', 'tcp'),
    turnServers.length > 0
      ? {
          purpose: 'turn-tls',
          transport: 'TCP',
          host: [...new Set(turnServers.map(({ host }) => host))].join(', '),
          ports: [...new Set(turnServers.map(({ port }) => port))].join(', '),
          status: 'known',
        }
      : {
          purpose: 'turn-tls',
          transport: 'TCP',
          host: null,
          ports: null,
          status: turn?.result === 'unavailable' ? 'not-configured' : 'unknown',
        },
  ];
}
