import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { AccountDeactivation } from './account-deactivation.ts';
import { AccountStore } from './account-store.ts';
import { AuditLog } from './audit-log.ts';
import { subscribeDomainEvents, type DomainEvent } from './domain-events.ts';
import type { Account } from './records.ts';
import { connectRedis, type RedisClient } from './redis.ts';
import { SessionStore } from './session-store.ts';
import { SiteStore } from './site-store.ts';

const quiet = { warn: () => undefined };
const HOUR = 3600_000;
const at = (offset: number) => new Date(Date.now() + offset).toISOString();

describe('AccountDeactivation on a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let subscriber: RedisClient;
  const events: DomainEvent[] = [];
  let accounts: AccountStore;
  let sessions: SessionStore;
  let host: Account;
  let other: Account;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = await connectRedis(server.url, () => undefined);
    subscriber = await connectRedis(server.url, () => undefined);
    await subscribeDomainEvents(
      subscriber,
      (event) => events.push(event),
      () => undefined,
    );
    await new SiteStore(redis, quiet).create({ id: 'aoshima', nameJa: '青島', nameEn: 'Aoshima', kind: 'hospital' });
    accounts = new AccountStore(redis, quiet);
    sessions = new SessionStore(redis, quiet);
    const base = { siteId: 'aoshima', password: 'a-long-password' };
    host = (await accounts.create({ ...base, username: 'host', displayName: '主催', roles: ['coordinator'] }))!;
    other = (await accounts.create({ ...base, username: 'other', displayName: '他', roles: ['coordinator'] }))!;
  });
  afterAll(async () => {
    await subscriber?.close();
    await redis?.close();
    await server?.stop();
  });

  const schedule = async (hostAccount: Account, startOffset: number, endOffset: number) =>
    (
      await sessions.create(
        {
          title: `session ${startOffset}`,
          startsAt: at(startOffset),
          endsAt: at(endOffset),
          invitedSiteIds: ['aoshima'],
          allowDoubleBooking: true,
        },
        hostAccount,
      )
    ).session;

  it('deactivates, ends live hosted sessions, cancels upcoming ones, and announces and audits it', async () => {
    const live = await schedule(host, -10 * 60_000, HOUR);
    const upcoming = await schedule(host, 24 * HOUR, 25 * HOUR);
    const othersSession = await schedule(other, 24 * HOUR, 25 * HOUR);
    const actor = { accountId: randomUUID(), siteId: 'nankai-univ', ip: '192.0.2.1' };

    const outcome = await new AccountDeactivation(redis, quiet).deactivate(host.id, actor);

    expect(outcome).toMatchObject({
      changed: true,
      endedSessionIds: [live.id],
      cancelledSessionIds: [upcoming.id],
      account: { id: host.id, active: false },
    });
    expect((await accounts.get(host.id))?.active).toBe(false);
    expect((await sessions.get(live.id))?.status).toBe('ended');
    expect((await sessions.get(upcoming.id))?.status).toBe('cancelled');
    expect((await sessions.get(othersSession.id))?.status).toBe('scheduled');
    await expect.poll(() => events.length).toBe(3);
    expect(events).toEqual([
      { type: 'account.deactivated', accountId: host.id },
      { type: 'session.ended', sessionId: live.id, reason: 'host-deactivated' },
      { type: 'session.cancelled', sessionId: upcoming.id },
    ]);
    const audit = await new AuditLog(redis).recent(2);
    expect(
      audit.map(({ action, sessionId, actorAccountId, siteId, ip }) => ({
        action,
        sessionId,
        actorAccountId,
        siteId,
        ip,
      })),
    ).toEqual([
      {
        action: 'session.cancelled',
        sessionId: upcoming.id,
        actorAccountId: actor.accountId,
        siteId: 'nankai-univ',
        ip: '192.0.2.1',
      },
      {
        action: 'session.ended',
        sessionId: live.id,
        actorAccountId: actor.accountId,
        siteId: 'nankai-univ',
        ip: '192.0.2.1',
      },
    ]);
    expect(audit[0]?.detail).toEqual({ reason: 'host-deactivated', hostAccountId: host.id });
  });

  it('is safe to repeat, and answers null for an unknown account', async () => {
    const deactivation = new AccountDeactivation(redis, quiet);
    const again = await deactivation.deactivate(host.id, { accountId: other.id, siteId: 'aoshima' });
    expect(again).toMatchObject({ changed: false, endedSessionIds: [], cancelledSessionIds: [] });
    expect(await deactivation.deactivate(randomUUID(), { accountId: other.id, siteId: 'aoshima' })).toBeNull();
  });
});
