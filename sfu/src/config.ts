import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { logLevelSetting, portSetting, readEnvConfig } from '@telemed/contract/server';

const sfuConfigSchema = z.object({
  /** Internal RPC for signaling nodes (never exposed to browsers). */
  SFU_RPC_HOST: z.string().default('127.0.0.1'),
  SFU_RPC_PORT: portSetting(3002),
  /** Shared with signaling; authenticates the RPC connection. */
  SFU_RPC_SECRET: z.string().min(32, 'SFU_RPC_SECRET must be at least 32 characters'),
  /** mediasoup workers; one per core by default. */
  SFU_WORKERS: z.coerce.number().int().min(1).max(64).default(availableParallelism()),
  /**
   * Address the WebRtcServers listen on. Unset: every interface, except that a loopback
   * announced address (the localhost demo) is listened on itself — see `listenIpFor`.
   */
  SFU_LISTEN_IP: z.string().optional(),
  /**
   * More addresses to listen on (comma-separated), same ports, announcing the same address: the
   * link lab (stack/link-lab.ts) reaches a loopback SFU from another network namespace this way.
   */
  SFU_EXTRA_LISTEN_IPS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((ip) => ip.trim())
        .filter(Boolean),
    ),
  /**
   * Address browsers are told to send media to (public IP or DNS name behind NAT). Defaults to
   * 127.0.0.1 for a localhost demo; set it on any real deployment.
   */
  SFU_ANNOUNCED_ADDRESS: z.string().default('127.0.0.1'),
  /** Worker i listens on this port + i, UDP and TCP. */
  SFU_RTC_PORT: portSetting(40000),
  /** A Router with nobody in it is closed after this long. */
  SFU_ROUTER_IDLE_MS: z.coerce.number().int().min(0).default(30_000),
  /** Connectivity probes (the pre-call check) open at once, in all. */
  SFU_MAX_PROBES: z.coerce.number().int().min(1).max(10_000).default(100),
  SFU_INITIAL_OUTGOING_BITRATE: z.coerce.number().int().positive().default(1_000_000),
  LOG_LEVEL: logLevelSetting,
});

export type SfuConfig = Omit<z.infer<typeof sfuConfigSchema>, 'SFU_LISTEN_IP'> & { SFU_LISTEN_IP: string };

/**
 * Where to listen when SFU_LISTEN_IP is not set. Listening on every interface (0.0.0.0) lets a
 * worker answer a UDP packet from another source address than the one it was sent to; a browser
 * sending from its LAN address to a loopback announced address then hears from the wrong address
 * and drops the DTLS handshake, so on a localhost demo UDP silently never worked and calls fell
 * back to TCP (the pre-call check's UDP probe showed it). A loopback address is only reachable
 * from this machine anyway, so it is listened on itself.
 */
export function listenIpFor(announcedAddress: string): string {
  if (announcedAddress === 'localhost') return '127.0.0.1';
  return /^127\./.test(announcedAddress) || announcedAddress === '::1' ? announcedAddress : '0.0.0.0';
}

export function readSfuConfig(env?: Record<string, string | undefined>): SfuConfig {
  const config = readEnvConfig('sfu', sfuConfigSchema, env);
  return { ...config, SFU_LISTEN_IP: config.SFU_LISTEN_IP ?? listenIpFor(config.SFU_ANNOUNCED_ADDRESS) };
}
