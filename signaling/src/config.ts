import { z } from 'zod';
import { logLevelSetting, portSetting, readEnvConfig } from '@telemed/contract/server';
import type { TurnSettings } from './turn-credentials.ts';

const signalingConfigSchema = z.object({
  SIGNALING_HOST: z.string().default('0.0.0.0'),
  SIGNALING_PORT: portSetting(3001),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }),
  /** Verifies the access tokens the web server mints (same value as the web server's). */
  AUTH_SECRET: z.string().min(32, 'AUTH_SECRET must be at least 32 characters'),
  /** The SFU's internal RPC address and its shared secret. */
  SFU_URL: z.url().default('http://127.0.0.1:3002'),
  SFU_RPC_SECRET: z.string().min(32, 'SFU_RPC_SECRET must be at least 32 characters'),
  /** Origins of the web client allowed to open a socket, comma-separated. */
  WEB_ORIGINS: z
    .string()
    .default('http://localhost:3000,http://127.0.0.1:3000')
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    ),
  /**
   * How often each node re-checks its calls against the schedule and the accounts (ends calls
   * at the scheduled end; catches a missed domain event), in milliseconds.
   */
  SESSION_RECHECK_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /**
   * TURN servers browsers may relay media through (`turn:` / `turns:` URLs, comma-separated),
   * and coturn's TURN REST API shared secret (`static-auth-secret`): signaling mints each
   * participant short-lived credentials from it. Neither set: no TURN (direct paths only).
   */
  TURN_URLS: z
    .string()
    .optional()
    .transform((value) =>
      (value ?? '')
        .split(',')
        .map((url) => url.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^turns?:[^\s]+$/, 'TURN_URLS: turn: or turns: URLs'))),
  TURN_SECRET: z.string().min(16, 'TURN_SECRET must be at least 16 characters').optional(),
  /** How long minted TURN credentials stay valid, in seconds (browsers ask again on ICE restart). */
  TURN_CREDENTIAL_LIFETIME_S: z.coerce.number().int().min(60).max(86_400).default(3600),
  /**
   * How long a participant whose socket dropped stays in its session, suspended, for its browser
   * to reconnect and resume (same tile, presenter role and raised hand), in milliseconds.
   */
  SIGNALING_RESUME_GRACE_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /**
   * Socket.IO heartbeat: a silent link is taken for dead after interval + timeout (20 s rather
   * than Socket.IO's 45 s), so the participant is suspended and the browser reconnects sooner. A
   * 600 ms-RTT satellite link answers a ping well within the timeout.
   */
  SIGNALING_PING_INTERVAL_MS: z.coerce.number().int().min(1_000).max(120_000).default(10_000),
  SIGNALING_PING_TIMEOUT_MS: z.coerce.number().int().min(2_000).max(120_000).default(10_000),
  LOG_LEVEL: logLevelSetting,
});

export type SignalingConfig = z.infer<typeof signalingConfigSchema>;

export function readSignalingConfig(env?: Record<string, string | undefined>): SignalingConfig {
  const config = readEnvConfig('signaling', signalingConfigSchema, env);
  if (config.TURN_URLS.length > 0 !== Boolean(config.TURN_SECRET)) {
    throw new Error('signaling: invalid configuration: TURN_URLS and TURN_SECRET go together (set both or neither)');
  }
  return config;
}

/** The TURN servers and how to mint their credentials; null when none is configured. */
export function turnSettingsOf(config: SignalingConfig): TurnSettings | null {
  if (!config.TURN_SECRET || config.TURN_URLS.length === 0) return null;
  return { urls: config.TURN_URLS, secret: config.TURN_SECRET, lifetimeSeconds: config.TURN_CREDENTIAL_LIFETIME_S };
}
