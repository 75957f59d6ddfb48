import type { z } from 'zod';
import type { RedisClient } from './redis.ts';

/** Where damaged records are reported (a pino logger fits). */
export interface RecordWarnings {
  warn(details: object, message: string): void;
}

/**
 * Reads JSON records stored as Redis strings and parses them with their schema. A record that
 * no longer parses is reported and left untouched in Redis (never deleted), and the reader
 * carries on without it.
 */
export async function readRecords<S extends z.ZodType>(
  redis: RedisClient,
  keys: string[],
  schema: S,
  warnings: RecordWarnings,
): Promise<z.infer<S>[]> {
  if (keys.length === 0) return [];
  const values = await redis.mGet(keys);
  const records: z.infer<S>[] = [];
  values.forEach((value, index) => {
    if (value === null) return;
    try {
      records.push(schema.parse(JSON.parse(value)));
    } catch (error) {
      warnings.warn({ key: keys[index], err: error }, 'stored record does not parse; skipped');
    }
  });
  return records;
}

export async function readRecord<S extends z.ZodType>(
  redis: RedisClient,
  key: string,
  schema: S,
  warnings: RecordWarnings,
): Promise<z.infer<S> | null> {
  const [record] = await readRecords(redis, [key], schema, warnings);
  return record ?? null;
}
