import type { ProducerInfo, ScreenSharePolicy } from '@telemed/contract';
import { RedisStore } from '@telemed/domain';
import { producersKey } from './conference-presence.ts';

/**
 * Each live session's screen-share policy, and the one door through which a shared screen
 * enters the session's producers (see ConferencePresence). Key: `conference:{sessionId}:screen-share`
 * (string `single` or `multiple`; absent means single), expiring two days after the host's last
 * change. The check and the write are one Lua script, so two sites pressing "share" at the same
 * moment cannot both get in when only one may.
 */

const policyKey = (sessionId: string) => `conference:${sessionId}:screen-share`;
const KEEP_MS = 2 * 24 * 60 * 60 * 1000;

// Producers that do not parse are skipped here as everywhere else (ConferencePresence reports them).
const PUT_IF_ALLOWED = `
if redis.call('GET', KEYS[2]) ~= 'multiple' then
  for _, value in ipairs(redis.call('HVALS', KEYS[1])) do
    local parsed, producer = pcall(cjson.decode, value)
    if parsed and type(producer) == 'table' and producer.source == 'screen'
      and producer.participantId ~= ARGV[1] then
      return 0
    end
  end
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return 1`;

export class ScreenShareStore extends RedisStore {
  async policy(sessionId: string): Promise<ScreenSharePolicy> {
    return { allowMultiple: (await this.redis.get(policyKey(sessionId))) === 'multiple' };
  }

  async setPolicy(sessionId: string, policy: ScreenSharePolicy): Promise<void> {
    await this.redis.set(policyKey(sessionId), policy.allowMultiple ? 'multiple' : 'single', { PX: KEEP_MS });
  }

  /**
   * Records a screen producer in the session's producers unless someone else shares a screen
   * and the policy allows only one; returns whether it was recorded.
   */
  async putIfAllowed(sessionId: string, producer: ProducerInfo): Promise<boolean> {
    const stored = await this.redis.eval(PUT_IF_ALLOWED, {
      keys: [producersKey(sessionId), policyKey(sessionId)],
      arguments: [producer.participantId, producer.producerId, JSON.stringify(producer)],
    });
    return stored === 1;
  }
}
