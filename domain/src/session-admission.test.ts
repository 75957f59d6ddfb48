import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { connectRedis, type RedisClient } from './redis.ts';
import {
  ADMISSION_KEPT_AFTER_END_MS,
  SessionAdmission,
  admittedKey,
  removedKey,
  waitingKey,
} from './session-admission.ts';

const warnings: { details: object; message: string }[] = [];
const recorder = { warn: (details: object, message: string) => warnings.push({ details, message }) };

const guest = (displayName: string) => ({
  accountId: randomUUID(),
  displayName,
  siteId: 'yamanaka',
  siteNameJa: '山中診療所',
  siteNameEn: 'Yamanaka Clinic',
});

/** A session ending an hour from now. */
const liveSession = () => ({ id: randomUUID(), endsAt: new Date(Date.now() + 3600_000).toISOString() });

describe('the waiting room on a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let admission: SessionAdmission;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = await connectRedis(server.url, () => undefined);
    admission = new SessionAdmission(redis, recorder);
  });
  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  it('lists knocking guests first come first, and keeps the first request time on a second knock', async () => {
    const session = liveSession();
    const [yamada, kimura] = [guest('山田 太郎'), guest('木村 次郎')];
    expect(await admission.knock(session, yamada, new Date('2026-05-01T01:00:00Z'))).toBe('waiting');
    expect(await admission.knock(session, kimura, new Date('2026-05-01T00:59:00Z'))).toBe('waiting');
    expect(await admission.knock(session, yamada, new Date('2026-05-01T01:05:00Z'))).toBe('waiting');
    const waiting = await admission.waiting(session.id);
    expect(waiting.map((entry) => [entry.displayName, entry.requestedAt])).toEqual([
      ['木村 次郎', '2026-05-01T00:59:00.000Z'],
      ['山田 太郎', '2026-05-01T01:00:00.000Z'],
    ]);
    expect(waiting[0]).toMatchObject({ siteNameJa: '山中診療所', siteNameEn: 'Yamanaka Clinic' });
  });

  it('admits a waiting guest once, and an admitted guest knocking again is let in at once', async () => {
    const session = liveSession();
    const yamada = guest('山田 太郎');
    await admission.knock(session, yamada);
    expect(await admission.isAdmitted(session.id, yamada.accountId)).toBe(false);
    expect(await admission.admit(session, yamada.accountId)).toMatchObject({ displayName: '山田 太郎' });
    expect(await admission.isAdmitted(session.id, yamada.accountId)).toBe(true);
    expect(await admission.waiting(session.id)).toEqual([]);
    // Nobody by that id is waiting any more: a second admit (another host tab) finds no one.
    expect(await admission.admit(session, yamada.accountId)).toBeNull();
    expect(await admission.knock(session, yamada)).toBe('admitted');
    expect(await admission.waiting(session.id)).toEqual([]);
    // Admission is per session.
    expect(await admission.isAdmitted(randomUUID(), yamada.accountId)).toBe(false);
  });

  it('rejects and withdraws only waiting guests, without admitting them', async () => {
    const session = liveSession();
    const [yamada, kimura] = [guest('山田 太郎'), guest('木村 次郎')];
    await admission.knock(session, yamada);
    await admission.knock(session, kimura);
    expect(await admission.reject(session.id, yamada.accountId)).toMatchObject({ accountId: yamada.accountId });
    expect(await admission.reject(session.id, yamada.accountId)).toBeNull();
    expect(await admission.withdraw(session.id, kimura.accountId)).toMatchObject({ accountId: kimura.accountId });
    expect(await admission.withdraw(session.id, kimura.accountId)).toBeNull();
    expect(await admission.waiting(session.id)).toEqual([]);
    expect(await admission.isAdmitted(session.id, yamada.accountId)).toBe(false);
    expect(await admission.admit(session, randomUUID())).toBeNull();
  });

  it('lets the keys expire some hours after the session ends, and moves the expiry on reschedule', async () => {
    const session = liveSession();
    const [yamada, kimura] = [guest('山田 太郎'), guest('木村 次郎')];
    await admission.knock(session, yamada);
    await admission.knock(session, kimura);
    await admission.admit(session, yamada.accountId);
    const expected = Date.parse(session.endsAt) + ADMISSION_KEPT_AFTER_END_MS;
    expect(await redis.pExpireTime(waitingKey(session.id))).toBe(expected);
    expect(await redis.pExpireTime(admittedKey(session.id))).toBe(expected);

    const later = { ...session, endsAt: new Date(Date.parse(session.endsAt) + 86_400_000).toISOString() };
    await admission.keepFor(later);
    expect(await redis.pExpireTime(admittedKey(session.id))).toBe(expected + 86_400_000);
    expect(await redis.pExpireTime(waitingKey(session.id))).toBe(expected + 86_400_000);
  });

  it('keeps a removed account out until the host admits it again', async () => {
    const session = liveSession();
    const [yamada, invited] = [guest('山田 太郎'), guest('招待 済')];
    await admission.knock(session, yamada);
    await admission.admit(session, yamada.accountId);
    expect(await admission.standing(session.id, yamada.accountId)).toEqual({ admitted: true, removed: false });

    await admission.remove(session, yamada.accountId);
    await admission.remove(session, invited.accountId);
    expect(await admission.standing(session.id, yamada.accountId)).toEqual({ admitted: false, removed: true });
    expect(await admission.standing(session.id, invited.accountId)).toEqual({ admitted: false, removed: true });
    // Knocking again does not let a removed guest in by itself: it waits for the host.
    expect(await admission.knock(session, yamada)).toBe('waiting');
    expect(await admission.admit(session, yamada.accountId)).toMatchObject({ accountId: yamada.accountId });
    expect(await admission.standing(session.id, yamada.accountId)).toEqual({ admitted: true, removed: false });
    expect(await admission.standing(session.id, invited.accountId)).toEqual({ admitted: false, removed: true });
    // Removal is per session, and ends with the session's keys.
    expect(await admission.standing(randomUUID(), invited.accountId)).toEqual({ admitted: false, removed: false });
    const expected = Date.parse(session.endsAt) + ADMISSION_KEPT_AFTER_END_MS;
    expect(await redis.pExpireTime(removedKey(session.id))).toBe(expected);
    await admission.keepFor({ ...session, endsAt: new Date(Date.parse(session.endsAt) + 3600_000).toISOString() });
    expect(await redis.pExpireTime(removedKey(session.id))).toBe(expected + 3600_000);
  });

  it('skips a damaged waiting entry with a warning and leaves it stored', async () => {
    const session = liveSession();
    const yamada = guest('山田 太郎');
    await admission.knock(session, yamada);
    await redis.hSet(waitingKey(session.id), 'damaged', '{"accountId":');
    const before = warnings.length;
    expect((await admission.waiting(session.id)).map((entry) => entry.accountId)).toEqual([yamada.accountId]);
    expect(warnings.length).toBe(before + 1);
    expect(await redis.hGet(waitingKey(session.id), 'damaged')).toBe('{"accountId":');
  });

  it('refuses to store a guest that does not fit the record', async () => {
    await expect(admission.knock(liveSession(), { ...guest('x'), accountId: 'not-a-uuid' })).rejects.toThrow();
  });
});
