import { z } from 'zod';
import { portSetting, readEnvConfig } from '@telemed/contract/server';

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
