import { z } from 'zod';
import {
  transportPathSchema,
  type ParticipantTransportPaths,
  type TransportDirection,
  type TransportPath,
} from '@telemed/contract';
import { RedisStore } from '@telemed/domain';

/**
 * The path each participant's transports reach the SFU by (direct UDP or TCP, or relayed
 * through TURN), as their browsers report it: kept in Redis so the host's media statistics show
 * it whichever signaling node the host is on. Key: `conference:{sessionId}:transport-paths`
 * (hash participantId → `{ send, recv }`), expiring two days after the last report like the
 * session's other call state.
 */

const pathsKey = (sessionId: string) => `conference:${sessionId}:transport-paths`;
const KEEP_MS = 2 * 24 * 60 * 60 * 1000;

const pathsSchema = z.object({ send: transportPathSchema.nullable(), recv: transportPathSchema.nullable() });

export class TransportPathStore extends RedisStore {
  async report(sessionId: string, participantId: string, direction: TransportDirection, path: TransportPath) {
    const key = pathsKey(sessionId);
    const paths = (await this.of(sessionId)).get(participantId) ?? { send: null, recv: null };
    await this.redis
      .multi()
      .hSet(key, participantId, JSON.stringify({ ...paths, [direction]: path }))
      .pExpire(key, KEEP_MS)
      .exec();
  }

  /** Every participant's reported paths, by participant id. */
  async of(sessionId: string): Promise<Map<string, ParticipantTransportPaths>> {
    const key = pathsKey(sessionId);
    const paths = new Map<string, ParticipantTransportPaths>();
    for (const [participantId, value] of Object.entries(await this.redis.hGetAll(key))) {
      try {
        paths.set(participantId, pathsSchema.parse(JSON.parse(value)));
      } catch (error) {
        this.warnings.warn({ key, field: participantId, err: error }, 'transport path record does not parse; skipped');
      }
    }
    return paths;
  }

  async forget(sessionId: string, participantId: string): Promise<void> {
    await this.redis.hDel(pathsKey(sessionId), participantId);
  }
}
