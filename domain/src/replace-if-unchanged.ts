import type { z } from 'zod';
import type { RecordWarnings } from './json-records.ts';
import type { RedisClient } from './redis.ts';

/** Replaces the record only if it is still exactly the one read (compared inside Redis, atomically). */
const REPLACE_IF_UNCHANGED = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1`;

/**
 * Read-modify-write of one JSON record without losing a concurrent change: when another write
 * lands in between, the change is computed again from the new record (a few times at most).
 * Null when the record is missing, or damaged (reported and left as it is). The result of
 * `change` is parsed with `schema` before it is stored, so a bad change throws and stores nothing.
 */
export async function replaceIfUnchanged<S extends z.ZodType<object>>(
  redis: RedisClient,
  key: string,
  schema: S,
  warnings: RecordWarnings,
  change: (current: z.infer<S>) => z.input<S>,
): Promise<{ previous: z.infer<S>; next: z.infer<S> } | null> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const stored = await redis.get(key);
    if (stored === null) return null;
    let json: unknown;
    try {
      json = JSON.parse(stored);
    } catch {
      json = undefined;
    }
    const current = schema.safeParse(json);
    if (!current.success) {
      warnings.warn({ key, err: current.error }, 'stored record does not parse; not changed');
      return null;
    }
    const next = schema.parse(change(current.data));
    const replaced = await redis.eval(REPLACE_IF_UNCHANGED, { keys: [key], arguments: [stored, JSON.stringify(next)] });
    if (replaced === 1) return { previous: current.data, next };
  }
  throw new Error(`${key} kept changing; gave up`);
}
