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
  /** Address the WebRtcServers listen on. */
  SFU_LISTEN_IP: z.string().default('0.0.0.0'),
  /**
   * Address browsers are told to send media to (public IP or DNS name behind NAT). Defaults to
   * 127.0.0.1 for a localhost demo; set it on any real deployment.
   */
  SFU_ANNOUNCED_ADDRESS: z.string().default('127.0.0.1'),
  /** Worker i listens on this port + i, UDP and TCP. */
  SFU_RTC_PORT: portSetting(40000),
  /** A Router with nobody in it is closed after this long. */
  SFU_ROUTER_IDLE_MS: z.coerce.number().int().min(0).default(30_000),
  SFU_INITIAL_OUTGOING_BITRATE: z.coerce.number().int().positive().default(1_000_000),
  LOG_LEVEL: logLevelSetting,
});

export type SfuConfig = z.infer<typeof sfuConfigSchema>;

export function readSfuConfig(env?: Record<string, string | undefined>): SfuConfig {
  return readEnvConfig('sfu', sfuConfigSchema, env);
}
