import { z } from 'zod';
import { RedisStore } from './redis-store.ts';
import { dicomUidSchema, displayNameSchema, siteIdSchema } from './records.ts';

/**
 * A session's chat, kept with the session for good: shown to late joiners, exported with the
 * session's record, never trimmed, edited or expired. Messages are appended in one Lua script
 * that also applies the sender's rate limit and the session's size limit (refusing, never
 * dropping an older message), so every signaling node applies the same limits.
 *
 * Keys: `session:<id>:chat` (list of messages as JSON, oldest first; a message's `seq` is its
 * position, from 1), `session:<id>:chat:writers` (set of the accounts that wrote, so the audit
 * trail records each writer once), `session:<id>:chat:rate:<accountId>` (messages in the
 * current rate window, expiring with it).
 */

export const chatKey = (sessionId: string) => `session:${sessionId}:chat`;
const writersKey = (sessionId: string) => `session:${sessionId}:chat:writers`;
const rateKey = (sessionId: string, accountId: string) => `session:${sessionId}:chat:rate:${accountId}`;

/** A message as stored. The sending rules (length, characters) are the contract's; this is the shape. */
export const chatMessageRecordSchema = z.object({
  participantId: z.uuid(),
  accountId: z.uuid(),
  displayName: displayNameSchema,
  siteId: siteIdSchema,
  siteNameJa: z.string().min(1).max(100),
  siteNameEn: z.string().min(1).max(100),
  text: z.string().min(1).max(4000),
  studyInstanceUid: dicomUidSchema.nullable(),
  /** UTC, ISO 8601. */
  sentAt: z.iso.datetime(),
});
export type ChatMessageRecord = z.infer<typeof chatMessageRecordSchema>;
export type StoredChatMessage = ChatMessageRecord & { seq: number };

export interface ChatLimits {
  /** The most messages a session's chat holds. */
  maxMessages: number;
  /** The most messages one account sends in a session per window. */
  rate: { messages: number; perMs: number };
}

/** Why a message was not stored: the sender's rate, or the session's chat is full. */
export class ChatRefusal extends Error {
  readonly reason: 'rate-limited' | 'full';
  constructor(reason: 'rate-limited' | 'full') {
    super(reason === 'full' ? 'this session’s chat is full' : 'too many messages; wait a moment');
    this.name = 'ChatRefusal';
    this.reason = reason;
  }
}

/** Returns {seq, first message of this account} or {0, 0} when rate-limited, {-1, 0} when full. */
const APPEND = `
local sent = redis.call('INCR', KEYS[2])
if redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
if sent > tonumber(ARGV[3]) then return {0, 0} end
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[2]) then return {-1, 0} end
local seq = redis.call('RPUSH', KEYS[1], ARGV[1])
local first = redis.call('SADD', KEYS[3], ARGV[5])
return {seq, first}`;

export class SessionChatLog extends RedisStore {
  /**
   * Stores a message; returns it with its `seq`, and whether it is the first this account wrote
   * in the session. Throws ChatRefusal when the sender is over its rate or the chat is full.
   */
  async append(
    sessionId: string,
    record: ChatMessageRecord,
    limits: ChatLimits,
  ): Promise<{ message: StoredChatMessage; firstFromAccount: boolean }> {
    const stored = chatMessageRecordSchema.parse(record);
    const reply = await this.redis.eval(APPEND, {
      keys: [chatKey(sessionId), rateKey(sessionId, stored.accountId), writersKey(sessionId)],
      arguments: [
        JSON.stringify(stored),
        String(limits.maxMessages),
        String(limits.rate.messages),
        String(limits.rate.perMs),
        stored.accountId,
      ],
    });
    const [seq, first] = reply as [number, number];
    if (seq === 0) throw new ChatRefusal('rate-limited');
    if (seq < 0) throw new ChatRefusal('full');
    return { message: { ...stored, seq }, firstFromAccount: first === 1 };
  }

  /**
   * Up to `size` messages before `beforeSeq` (default: the newest), oldest first, and whether
   * older ones exist.
   */
  async page(
    sessionId: string,
    options: { beforeSeq?: number | undefined; size: number },
  ): Promise<{ messages: StoredChatMessage[]; hasEarlier: boolean }> {
    const total = await this.redis.lLen(chatKey(sessionId));
    const lastSeq = Math.min(options.beforeSeq === undefined ? total : options.beforeSeq - 1, total);
    if (lastSeq < 1) return { messages: [], hasEarlier: false };
    const firstSeq = Math.max(1, lastSeq - options.size + 1);
    return { messages: await this.range(sessionId, firstSeq, lastSeq), hasEarlier: firstSeq > 1 };
  }

  /** The whole chat, oldest first (at most the size limit, so it fits an export). */
  async all(sessionId: string): Promise<StoredChatMessage[]> {
    return this.range(sessionId, 1, -1);
  }

  async count(sessionId: string): Promise<number> {
    return this.redis.lLen(chatKey(sessionId));
  }

  /** Messages `firstSeq`…`lastSeq` (-1: the last); one that does not parse is reported and skipped, never removed. */
  private async range(sessionId: string, firstSeq: number, lastSeq: number): Promise<StoredChatMessage[]> {
    const key = chatKey(sessionId);
    const values = await this.redis.lRange(key, firstSeq - 1, lastSeq === -1 ? -1 : lastSeq - 1);
    return values.flatMap((value, index) => {
      const seq = firstSeq + index;
      try {
        return [{ ...chatMessageRecordSchema.parse(JSON.parse(value)), seq }];
      } catch (error) {
        // The message's text is patient-related: only where it is goes to the log.
        this.warnings.warn(
          { key, seq, err: error instanceof Error ? error.name : 'unknown' },
          'chat message does not parse; skipped',
        );
        return [];
      }
    });
  }
}
