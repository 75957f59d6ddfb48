import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { CalendarFeedStore, calendarFeedAccountKey, calendarFeedTokenKey } from './calendar-feed-store.ts';
import { connectRedis, type RedisClient } from './redis.ts';

describe('calendar feed tokens on a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let feeds: CalendarFeedStore;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = await connectRedis(server.url, () => undefined);
    feeds = new CalendarFeedStore(redis);
  });
  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  it('opens the feed of the account it was issued to', async () => {
    const accountId = randomUUID();
    expect(await feeds.status(accountId)).toBeNull();
    const issued = await feeds.issue(accountId);
    expect(issued.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(issued.replaced).toBe(false);
    expect(await feeds.accountId(issued.token)).toBe(accountId);
    expect(await feeds.status(accountId)).toEqual({ issuedAt: issued.issuedAt });
  });

  it('stores only the SHA-256 of the token', async () => {
    const accountId = randomUUID();
    const { token } = await feeds.issue(accountId);
    const hash = createHash('sha256').update(token).digest('base64url');
    expect(await redis.get(calendarFeedTokenKey(hash))).toBe(accountId);
    expect(await redis.hGet(calendarFeedAccountKey(accountId), 'tokenHash')).toBe(hash);
    const everything = await redis.keys('*');
    for (const key of everything) {
      const type = await redis.type(key);
      const values = type === 'string' ? [await redis.get(key)] : Object.values(await redis.hGetAll(key));
      expect(key).not.toContain(token);
      for (const value of values) expect(value).not.toContain(token);
    }
  });

  it('revokes the old address when a new one is issued', async () => {
    const accountId = randomUUID();
    const first = await feeds.issue(accountId);
    const second = await feeds.issue(accountId);
    expect(second.replaced).toBe(true);
    expect(second.token).not.toBe(first.token);
    expect(await feeds.accountId(first.token)).toBeNull();
    expect(await feeds.accountId(second.token)).toBe(accountId);
    expect(await redis.keys(calendarFeedTokenKey('*'))).not.toContain(
      calendarFeedTokenKey(createHash('sha256').update(first.token).digest('base64url')),
    );
  });

  it('leaves exactly one valid address after concurrent renewals', async () => {
    const accountId = randomUUID();
    const tokens = (await Promise.all(Array.from({ length: 8 }, () => feeds.issue(accountId)))).map((i) => i.token);
    const valid = (await Promise.all(tokens.map((token) => feeds.accountId(token)))).filter(Boolean);
    expect(valid).toHaveLength(1);
  });

  it('revokes the address on request', async () => {
    const accountId = randomUUID();
    const { token } = await feeds.issue(accountId);
    expect(await feeds.revoke(accountId)).toBe(true);
    expect(await feeds.accountId(token)).toBeNull();
    expect(await feeds.status(accountId)).toBeNull();
    expect(await feeds.revoke(accountId)).toBe(false);
  });

  it('keeps accounts apart', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const [tokenA, tokenB] = [(await feeds.issue(a)).token, (await feeds.issue(b)).token];
    await feeds.issue(a);
    expect(await feeds.accountId(tokenA)).toBeNull();
    expect(await feeds.accountId(tokenB)).toBe(b);
  });

  it('answers null for unknown and malformed tokens', async () => {
    for (const token of ['', 'short', 'x'.repeat(43), '*'.repeat(43), `${'a'.repeat(42)}/`, 'a'.repeat(44)]) {
      expect(await feeds.accountId(token)).toBeNull();
    }
  });
});
