import type { RecordWarnings } from './json-records.ts';
import type { RedisClient } from './redis.ts';

/** What every Redis-backed store holds: the connection, and where damaged records are reported. */
export abstract class RedisStore {
  protected readonly redis: RedisClient;
  protected readonly warnings: RecordWarnings;

  constructor(redis: RedisClient, warnings: RecordWarnings) {
    this.redis = redis;
    this.warnings = warnings;
  }
}
