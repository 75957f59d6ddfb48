import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { connectRedis, type RedisClient } from './redis.ts';
import { ChatRefusal, SessionChatLog, chatKey, type ChatMessageRecord } from './session-chat-log.ts';

const warnings: { details: object; message: string }[] = [];
const recorder = { warn: (details: object, message: string) => warnings.push({ details, message }) };

const sato = { accountId: randomUUID(), participantId: randomUUID() };
const suzuki = { accountId: randomUUID(), participantId: randomUUID() };

function message(from: { accountId: string; participantId: string }, text: string): ChatMessageRecord {
  return {
    ...from,
    displayName: '佐藤 花子',
    siteId: 'aoshima',
    siteNameJa: '青島町立病院',
    siteNameEn: 'Aoshima Town Hospital',
    text,
    studyInstanceUid: null,
    sentAt: new Date().toISOString(),
  };
}

/** Generous enough that only the test that is about limits meets one. */
const roomy = { maxMessages: 1000, rate: { messages: 1000, perMs: 60_000 } };

describe('a session’s chat on a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let chat: SessionChatLog;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = await connectRedis(server.url, () => undefined);
    chat = new SessionChatLog(redis, recorder);
  });
  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  it('numbers messages in order and says which is an account’s first', async () => {
    const sessionId = randomUUID();
    const first = await chat.append(sessionId, message(sato, 'おはようございます'), roomy);
    const second = await chat.append(sessionId, message(suzuki, '聞こえますか'), roomy);
    const third = await chat.append(sessionId, message(sato, '画像を開きます'), roomy);
    expect([first, second, third].map(({ message: { seq }, firstFromAccount }) => [seq, firstFromAccount])).toEqual([
      [1, true],
      [2, true],
      [3, false],
    ]);
    expect((await chat.all(sessionId)).map((stored) => [stored.seq, stored.text])).toEqual([
      [1, 'おはようございます'],
      [2, '聞こえますか'],
      [3, '画像を開きます'],
    ]);
    expect(await chat.count(sessionId)).toBe(3);
    // Kept with the session: no expiry.
    expect(await redis.pTTL(chatKey(sessionId))).toBe(-1);
  });

  it('pages back from the newest message', async () => {
    const sessionId = randomUUID();
    for (let index = 1; index <= 7; index += 1) await chat.append(sessionId, message(sato, `m${index}`), roomy);
    const newest = await chat.page(sessionId, { size: 3 });
    expect(newest.messages.map((stored) => stored.seq)).toEqual([5, 6, 7]);
    expect(newest.hasEarlier).toBe(true);
    const before = await chat.page(sessionId, { beforeSeq: 5, size: 3 });
    expect(before.messages.map((stored) => stored.seq)).toEqual([2, 3, 4]);
    const oldest = await chat.page(sessionId, { beforeSeq: 2, size: 3 });
    expect(oldest).toMatchObject({ hasEarlier: false });
    expect(oldest.messages.map((stored) => stored.text)).toEqual(['m1']);
    expect(await chat.page(sessionId, { beforeSeq: 1, size: 3 })).toEqual({ messages: [], hasEarlier: false });
    expect(await chat.page(sessionId, { beforeSeq: 99, size: 2 })).toMatchObject({ hasEarlier: true });
    expect(await chat.page(randomUUID(), { size: 3 })).toEqual({ messages: [], hasEarlier: false });
  });

  it('refuses a sender over its rate and a full chat, dropping nothing', async () => {
    const sessionId = randomUUID();
    const limits = { maxMessages: 4, rate: { messages: 2, perMs: 60_000 } };
    await chat.append(sessionId, message(sato, '1'), limits);
    await chat.append(sessionId, message(sato, '2'), limits);
    const overRate = await chat.append(sessionId, message(sato, '3'), limits).catch((error: unknown) => error);
    expect(overRate).toBeInstanceOf(ChatRefusal);
    expect((overRate as ChatRefusal).reason).toBe('rate-limited');
    // The limit is per account: another participant still writes.
    await chat.append(sessionId, message(suzuki, '3'), limits);
    await chat.append(sessionId, message(suzuki, '4'), limits);
    const overSize = await chat
      .append(sessionId, message({ ...suzuki, accountId: randomUUID() }, '5'), limits)
      .catch((error: unknown) => error);
    expect((overSize as ChatRefusal).reason).toBe('full');
    expect((await chat.all(sessionId)).map((stored) => stored.text)).toEqual(['1', '2', '3', '4']);
  });

  it('skips a damaged message with a warning that does not repeat it, and keeps it stored', async () => {
    const sessionId = randomUUID();
    await chat.append(sessionId, message(sato, 'before'), roomy);
    await redis.rPush(chatKey(sessionId), '{"text":"患者 山田"');
    await chat.append(sessionId, message(sato, 'after'), roomy);
    const before = warnings.length;
    expect((await chat.all(sessionId)).map((stored) => [stored.seq, stored.text])).toEqual([
      [1, 'before'],
      [3, 'after'],
    ]);
    expect(warnings.length).toBe(before + 1);
    expect(JSON.stringify(warnings.at(-1))).not.toContain('山田');
    expect(await redis.lIndex(chatKey(sessionId), 1)).toBe('{"text":"患者 山田"');
  });

  it('refuses to store a message that does not fit the record', async () => {
    await expect(chat.append(randomUUID(), { ...message(sato, 'x'), accountId: 'nobody' }, roomy)).rejects.toThrow();
  });
});
