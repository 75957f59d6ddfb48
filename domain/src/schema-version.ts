import type { RecordWarnings } from './json-records.ts';
import { accountSchema, sessionSchema, siteSchema } from './records.ts';
import type { RedisClient } from './redis.ts';

/**
 * The version of the Redis key layout and record shapes (documented in domain/README.md). Each
 * service checks it at start: older data is migrated in place (records rewritten with their new
 * fields' defaults, nothing removed), newer data stops the service rather than be misread.
 */
export const SCHEMA_VERSION = 2;
export const SCHEMA_VERSION_KEY = 'schema:version';

export class SchemaVersionError extends Error {
  constructor(found: number) {
    super(`Redis holds schema version ${found}, newer than this release's ${SCHEMA_VERSION}; upgrade the services`);
    this.name = 'SchemaVersionError';
  }
}

/** Rewrites every record matching `pattern` through `schema` (filling new defaults). */
async function rewriteRecords(
  redis: RedisClient,
  pattern: string,
  schema: { safeParse(value: unknown): { success: boolean; data?: unknown } },
  warnings: RecordWarnings,
): Promise<number> {
  let rewritten = 0;
  for await (const keys of redis.scanIterator({ MATCH: pattern, COUNT: 200, TYPE: 'string' })) {
    for (const key of keys) {
      const value = await redis.get(key);
      if (value === null) continue;
      let parsed;
      try {
        parsed = schema.safeParse(JSON.parse(value));
      } catch {
        parsed = { success: false };
      }
      if (!parsed.success) {
        warnings.warn({ key }, 'record left as it is during migration: it does not parse');
        continue;
      }
      await redis.set(key, JSON.stringify(parsed.data));
      rewritten += 1;
    }
  }
  return rewritten;
}

/** Version 1 (the foundation) had no site contacts, session cases or sequences. */
async function migrateFrom1(redis: RedisClient, warnings: RecordWarnings): Promise<void> {
  await rewriteRecords(redis, 'site:*', siteSchema, warnings);
  await rewriteRecords(redis, 'session:????????-????-????-????-????????????', sessionSchema, warnings);
  const accountKeys: string[] = [];
  for await (const keys of redis.scanIterator({ MATCH: 'account:*', COUNT: 200, TYPE: 'string' })) {
    accountKeys.push(...keys.filter((key) => !key.startsWith('account:username:')));
  }
  for (const key of accountKeys) {
    const value = await redis.get(key);
    const parsed = value === null ? null : accountSchema.safeParse(JSON.parse(value));
    if (parsed?.success) await redis.set(key, JSON.stringify(parsed.data));
    else warnings.warn({ key }, 'record left as it is during migration: it does not parse');
  }
}

/** Brings the stored data to SCHEMA_VERSION (or marks an empty database with it). */
export async function ensureSchema(redis: RedisClient, warnings: RecordWarnings): Promise<void> {
  const stored = await redis.get(SCHEMA_VERSION_KEY);
  const empty = stored === null && (await redis.dbSize()) === 0;
  const found = stored === null ? (empty ? SCHEMA_VERSION : 1) : Number(stored);
  if (found > SCHEMA_VERSION) throw new SchemaVersionError(found);
  if (found < 2) await migrateFrom1(redis, warnings);
  if (found !== SCHEMA_VERSION || stored === null) await redis.set(SCHEMA_VERSION_KEY, String(SCHEMA_VERSION));
}
