import { seedDemo, SessionStore, StudyPrefetchQueue, type Account } from '@telemed/domain';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../../../stack/private-redis.ts';
import { load } from '../../routes/schedule/[id]/+page.server.ts';
import { webDomain } from './domain.ts';
import { attachCase } from './session-scheduling.ts';
import { signedIn } from './signin.ts';

/** Attaching a case queues its studies for the proxy's prefetch; the session page shows them. */

const quiet = pino({ level: 'silent' });
const S1 = '1.2.392.200036.9116.2.6.1.48.11';
const S2 = '1.2.392.200036.9116.2.6.1.48.12';

describe('study prefetch of attached cases', () => {
  let server: PrivateRedis;
  let tanaka: Account;

  beforeAll(async () => {
    server = await startTestRedis();
    process.env.REDIS_URL = server.url;
    process.env.AUTH_SECRET = 'prefetch-test-secret-0123456789abcdef';
    const { redis, accounts } = await webDomain();
    await seedDemo(redis, quiet);
    tanaka = (await accounts.findByUsername('tanaka'))!;
  });
  afterAll(async () => {
    await (await webDomain()).redis.close();
    await server?.stop();
  });

  it('queues the case’s studies once and shows their state on the session page', async () => {
    const { redis } = await webDomain();
    const { session } = await new SessionStore(redis, quiet).create(
      {
        title: '事前取得の確認',
        startsAt: new Date(Date.now() + 3600_000).toISOString(),
        endsAt: new Date(Date.now() + 7200_000).toISOString(),
        invitedSiteIds: ['aoshima'],
        allowDoubleBooking: true,
      },
      tanaka,
    );
    const actor = { account: tanaka, ip: '203.0.113.9' };
    const consent = { documentNumber: 'C-1', recordedBy: '佐藤 花子', recordedAt: new Date().toISOString() };
    await attachCase(actor, session.id, { patientRef: 'AO-1', studyInstanceUids: [S1, S2], consent });
    await attachCase(actor, session.id, { patientRef: 'AO-2', studyInstanceUids: [S2], consent });

    const jobs = await new StudyPrefetchQueue(redis, quiet).progressFor(session.id);
    expect([...jobs.keys()]).toEqual([S1, S2]);
    expect(jobs.get(S1)).toMatchObject({ state: 'queued', attempts: 0, instances: 0, bytes: 0 });

    const data = (await load({
      locals: { account: signedIn(tanaka), language: 'ja' },
      url: new URL(`http://localhost:3000/schedule/${session.id}`),
      params: { id: session.id },
      getClientAddress: () => '203.0.113.9',
      depends: () => undefined,
    } as never)) as { prefetch: Record<string, unknown> };
    expect(data.prefetch).toEqual({
      [S1]: { state: 'queued', attempts: 0, instances: 0, bytes: 0 },
      [S2]: { state: 'queued', attempts: 0, instances: 0, bytes: 0 },
    });
  });
});
