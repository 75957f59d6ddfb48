import { z } from 'zod';
import { flagSetting, portSetting, readEnvConfig } from '@telemed/contract/server';

const webConfigSchema = z.object({
  REDIS_URL: z.url({ protocol: /^rediss?$/ }),
  /** Signs the access tokens for signaling (and later the DICOM proxy); shared with them. */
  AUTH_SECRET: z.string().min(32, 'AUTH_SECRET must be at least 32 characters'),
  /**
   * Where browsers reach signaling. Unset: the host the page was loaded from, on
   * SIGNALING_PORT (right for localhost and a single server on a hospital LAN).
   */
  SIGNALING_PUBLIC_URL: z.url().optional(),
  SIGNALING_PORT: portSetting(3001),
  SIGNIN_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 7)
    .default(12),
  /**
   * Whether admins and coordinators must use a TOTP second factor (they are made to set one up
   * at their next sign-in). Off by default so the demo works without an authenticator app.
   */
  TOTP_REQUIRED_FOR_PRIVILEGED: flagSetting(false),
  /** Failed passwords or codes for one username within SIGNIN_FAILURE_WINDOW_MINUTES that lock it. */
  SIGNIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  SIGNIN_FAILURE_WINDOW_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(15),
  /** How long a locked username stays locked. */
  SIGNIN_LOCK_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(15),
  /** Failed sign-in attempts one source address may make per SIGNIN_ADDRESS_WINDOW_MINUTES. */
  SIGNIN_ADDRESS_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10_000).default(30),
  SIGNIN_ADDRESS_WINDOW_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(5),
  /** Set to true behind an HTTPS reverse proxy so cookies are marked Secure. */
  COOKIE_SECURE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
});

export type WebConfig = z.infer<typeof webConfigSchema>;

let config: WebConfig | undefined;

/** Read on first use (not at import), so building the app needs no environment. */
export function webConfig(): WebConfig {
  config ??= readEnvConfig('web', webConfigSchema);
  return config;
}
