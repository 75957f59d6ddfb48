import { z } from 'zod';
import { describeZodError } from './ack.ts';

/**
 * Reads a service's configuration from environment variables through its zod schema. A bad
 * or missing setting stops the service at start with one line naming the variable, instead of
 * failing later in the middle of a call.
 */
export function readEnvConfig<S extends z.ZodType>(
  service: string,
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  // An empty variable means "not set" (compose files and .env templates often leave them empty).
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = schema.safeParse(given);
  if (parsed.success) return parsed.data;
  throw new Error(`${service}: invalid configuration: ${describeZodError(parsed.error)}`);
}

/** An env var holding a TCP/UDP port number. */
export const portSetting = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** An env var holding `true`/`false`/`1`/`0`. */
export const flagSetting = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1');

export const logLevelSetting = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');
