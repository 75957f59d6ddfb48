import type { RaisedHand } from '@telemed/contract';
import { RedisStore } from '@telemed/domain';

/**
 * The raised hands of each live session, in Redis so every signaling node serves the same
 * queue. Key: `conference:{sessionId}:hands` (sorted set: participantId scored by when the hand
 * went up, in microseconds of Redis's own clock, so hands raised through different nodes are
 * ordered by one clock). It empties, and so disappears, as hands go down and participants leave.
 */

const handsKey = (sessionId: string) => `conference:${sessionId}:hands`;

/** Raises the hand unless it is up already (a second raise keeps its place); 1 when it went up. */
const RAISE = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local now = redis.call('TIME')
redis.call('ZADD', KEYS[1], tonumber(now[1]) * 1000000 + tonumber(now[2]), ARGV[1])
return 1`;

export class RaisedHands extends RedisStore {
  /** Whether the hand went up now (false: it was up already). */
  async raise(sessionId: string, participantId: string): Promise<boolean> {
    return (await this.redis.eval(RAISE, { keys: [handsKey(sessionId)], arguments: [participantId] })) === 1;
  }

  /** Whether the hand went down now (false: it was not up). */
  async lower(sessionId: string, participantId: string): Promise<boolean> {
    return (await this.redis.zRem(handsKey(sessionId), participantId)) === 1;
  }

  /** First raised first. */
  async list(sessionId: string): Promise<RaisedHand[]> {
    const entries = await this.redis.zRangeWithScores(handsKey(sessionId), 0, -1);
    return entries.map(({ value, score }) => ({
      participantId: value,
      raisedAt: new Date(Math.floor(score / 1000)).toISOString(),
    }));
  }
}
