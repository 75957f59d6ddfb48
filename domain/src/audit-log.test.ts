import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { AUDIT_STREAM, AuditLog } from './audit-log.ts';
import { InputError } from './field-issues.ts';
import { connectRedis, type RedisClient } from './redis.ts';

const ADMIN = '0b8f5c1e-1111-4000-8000-000000000001';
const DOCTOR = '0b8f5c1e-2222-4000-8000-000000000002';
const SESSION = '3f6c2a1e-5b7d-4c8e-9a10-d2b4e6f80a01';
const DAY = Date.parse('2026-03-01T00:00:00.000Z');

describe('AuditLog on a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let audit: AuditLog;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = await connectRedis(server.url, () => undefined);
    audit = new AuditLog(redis);
    // Entries of an earlier day, written with explicit stream ids (times), one an hour.
    const earlier: Record<string, string>[] = [
      { action: 'signin.succeeded', actor: DOCTOR, outcome: 'success', siteId: 'aoshima', ip: '10.0.0.5' },
      { action: 'signin.failed', actor: '', outcome: 'failure', ip: '10.0.0.9', detail: '{"username":"sato"}' },
      { action: 'conference.joined', actor: DOCTOR, outcome: 'success', siteId: 'aoshima', sessionId: SESSION },
      {
        action: 'account.updated',
        actor: ADMIN,
        outcome: 'success',
        siteId: 'nankai-univ',
        target: `account:${DOCTOR}`,
      },
      { action: 'account.updated', actor: DOCTOR, outcome: 'denied', siteId: 'aoshima', target: `account:${ADMIN}` },
      { action: 'signin.succeeded', actor: ADMIN, outcome: 'success', siteId: 'nankai-univ', detail: '{broken' },
    ];
    for (const [hour, entry] of earlier.entries()) {
      const at = DAY + hour * 3600_000;
      await redis.xAdd(AUDIT_STREAM, `${at}-0`, { at: new Date(at).toISOString(), ...entry });
    }
    await audit.record({ action: 'site.created', actorAccountId: ADMIN, siteId: 'nankai-univ', target: 'site:x' });
  });
  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  it('reads everything newest first, a damaged detail kept as text', async () => {
    const { entries, nextCursor } = await audit.query();
    expect(entries.map((entry) => entry.action)).toEqual([
      'site.created',
      'signin.succeeded',
      'account.updated',
      'account.updated',
      'conference.joined',
      'signin.failed',
      'signin.succeeded',
    ]);
    expect(nextCursor).toBeNull();
    expect(entries[1]).toMatchObject({ actorAccountId: ADMIN, detail: { unparsed: '{broken' } });
    expect(entries[5]).toMatchObject({ actorAccountId: null, outcome: 'failure', detail: { username: 'sato' } });
    expect(entries[6]?.at).toBe('2026-03-01T00:00:00.000Z');
  });

  it('filters by time range (to exclusive), action or action prefix, actor, site, session, outcome, target', async () => {
    const actions = async (filter: Parameters<AuditLog['query']>[0]) =>
      (await audit.query(filter)).entries.map((entry) => `${entry.action}@${entry.at.slice(11, 13)}`);
    expect(await actions({ from: '2026-03-01T01:00:00Z', to: '2026-03-01T03:00:00Z' })).toEqual([
      'conference.joined@02',
      'signin.failed@01',
    ]);
    expect(await actions({ from: '2026-03-01T10:00:00+09:00', to: '2026-03-01T11:00:00+09:00' })).toEqual([
      'signin.failed@01',
    ]);
    expect(await actions({ action: 'signin.' })).toEqual([
      'signin.succeeded@05',
      'signin.failed@01',
      'signin.succeeded@00',
    ]);
    expect(await actions({ action: 'sign*' })).toHaveLength(3);
    expect(await actions({ action: 'signin.failed' })).toEqual(['signin.failed@01']);
    expect(await actions({ action: 'signin' })).toEqual([]);
    expect(await actions({ actorAccountId: DOCTOR, outcome: 'success' })).toEqual([
      'conference.joined@02',
      'signin.succeeded@00',
    ]);
    expect(await actions({ siteId: 'aoshima', outcome: 'denied' })).toEqual(['account.updated@04']);
    expect(await actions({ sessionId: SESSION })).toEqual(['conference.joined@02']);
    expect(await actions({ target: `account:${DOCTOR}` })).toEqual(['account.updated@03']);
  });

  it('pages with a cursor, newest first, without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await audit.query({ limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...result.entries.map((entry) => entry.id));
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
    }
    const all = (await audit.query()).entries.map((entry) => entry.id);
    expect(seen).toEqual(all);
    const filtered = await audit.query({ action: 'account.', limit: 1 });
    expect(filtered.entries).toHaveLength(1);
    const next = await audit.query({ action: 'account.', limit: 1, cursor: filtered.nextCursor! });
    expect(next.entries[0]?.outcome).toBe('success');
    // A cursor newer than `to` does not widen the range.
    expect((await audit.query({ to: '2026-03-01T01:30:00Z', cursor: all[0]! })).entries).toHaveLength(2);
  });

  it('stops looking after the scan limit and answers a cursor to carry on from', async () => {
    const bounded = new AuditLog(redis, { scanLimit: 3 });
    const first = await bounded.query({ action: 'signin.failed' });
    expect(first.entries).toEqual([]);
    expect(first.nextCursor).not.toBeNull();
    const second = await bounded.query({ action: 'signin.failed', cursor: first.nextCursor! });
    expect(second.entries.map((entry) => entry.action)).toEqual(['signin.failed']);
  });

  it('refuses a bad filter field by field', async () => {
    const error = await audit
      .query({
        from: 'yesterday',
        action: 'DROP TABLE',
        actorAccountId: 'x',
        outcome: 'maybe' as 'success',
        limit: 0,
        cursor: 'abc',
      })
      .catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).issues.map((issue) => issue.field)).toEqual([
      'from',
      'action',
      'actorAccountId',
      'outcome',
      'limit',
      'cursor',
    ]);
    const reversed = await audit.query({ from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' }).catch((e) => e);
    expect((reversed as InputError).issues).toMatchObject([{ field: 'to', code: 'end_before_start' }]);
  });

  it('offers no way to change or delete an entry', () => {
    const methods = Object.getOwnPropertyNames(AuditLog.prototype).filter((name) => name !== 'constructor');
    expect(methods.sort()).toEqual(['query', 'recent', 'record']);
  });
});
