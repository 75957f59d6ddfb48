import { randomUUID } from 'node:crypto';
import { isHttpError } from '@sveltejs/kit';
import { verifyAccessToken } from '@telemed/contract/access-token';
import {
  AccountStore,
  AuditLog,
  SessionAdmission,
  SessionStore,
  SiteStore,
  seedDemo,
  type Account,
  type Session,
} from '@telemed/domain';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../../../../stack/private-redis.ts';
import { webDomain } from '#lib/server/domain.ts';
import { signedIn } from '#lib/server/signin.ts';
import { GET } from './+server.ts';

/** The imaging-token route against a real Redis, called the way SvelteKit calls it. */

const quiet = pino({ level: 'silent' });
const HOUR = 3600_000;
const secret = 'imaging-token-test-secret-0123456789abcdef';
const S1 = '1.2.392.200036.9116.2.6.1.48.1';
const S2 = '1.2.392.200036.9116.2.6.1.48.2';
const S3 = '1.2.392.200036.9116.2.6.1.48.3';

describe('imaging token', () => {
  let server: PrivateRedis;
  let accounts: AccountStore;
  let sessions: SessionStore;
  let audit: AuditLog;
  let tanaka: Account;
  let sato: Account;
  let yamada: Account;
  let live: Session;

  beforeAll(async () => {
    server = await startTestRedis();
    process.env.REDIS_URL = server.url;
    process.env.AUTH_SECRET = secret;
    const { redis } = await webDomain();
    await seedDemo(redis, quiet);
    accounts = new AccountStore(redis, quiet);
    sessions = new SessionStore(redis, quiet);
    audit = new AuditLog(redis);
    await new SiteStore(redis, quiet).create({
      id: 'yamanaka',
      nameJa: '山中診療所',
      nameEn: 'Yamanaka Clinic',
      kind: 'clinic',
    });
    tanaka = (await accounts.findByUsername('tanaka'))!;
    sato = (await accounts.findByUsername('sato'))!;
    yamada = (await accounts.create({
      username: 'yamada',
      password: 'yamada-password',
      displayName: '山田 太郎',
      siteId: 'yamanaka',
      roles: ['site-doctor'],
    }))!;
    live = await schedule(-HOUR, HOUR);
    const consent = { documentNumber: 'C-2026-001', recordedBy: '佐藤 花子', recordedAt: new Date().toISOString() };
    await sessions.attachCase(
      live.id,
      {
        patientRef: 'AO-17',
        studyInstanceUids: [S1, S2],
        consent,
        patientSiteId: 'aoshima',
        deidentifyOutsidePatientSite: true,
      },
      tanaka,
    );
    await sessions.attachCase(live.id, { patientRef: 'AO-18', studyInstanceUids: [S2, S3], consent }, tanaka);
  });
  afterAll(async () => {
    await (await webDomain()).redis.close();
    await server?.stop();
  });

  async function schedule(startsInMs: number, endsInMs: number) {
    const created = await sessions.create(
      {
        title: '画像 合同読影',
        startsAt: new Date(Date.now() + startsInMs).toISOString(),
        endsAt: new Date(Date.now() + endsInMs).toISOString(),
        invitedSiteIds: ['aoshima'],
        allowDoubleBooking: true,
      },
      tanaka,
    );
    return created.session;
  }

  /** The route's answer: status, headers set and body, or the status and body of what it threw. */
  async function request(account: Account | null, sessionId: string | null) {
    const headers: Record<string, string> = {};
    const url = new URL('http://localhost:3000/api/imaging-token');
    if (sessionId !== null) url.searchParams.set('sessionId', sessionId);
    try {
      const response = await GET({
        locals: { account: account ? signedIn(account) : null, language: 'ja' },
        url,
        setHeaders: (set: Record<string, string>) => Object.assign(headers, set),
        getClientAddress: () => '203.0.113.7',
      } as never);
      return {
        status: response.status,
        headers,
        body: (await response.json()) as { token: string; expiresIn: number },
      };
    } catch (thrown) {
      if (isHttpError(thrown)) return { status: thrown.status, headers, error: thrown.body };
      throw thrown;
    }
  }

  it('grants the host every study of the session, de-identified where the patient is treated elsewhere', async () => {
    const answer = await request(tanaka, live.id);
    expect(answer).toMatchObject({ status: 200, headers: { 'cache-control': 'no-store' }, body: { expiresIn: 300 } });
    const verified = await verifyAccessToken(answer.body!.token, { secret, audience: 'dicom-proxy' });
    expect(verified).toMatchObject({ sub: tanaka.id, siteId: tanaka.siteId });
    expect(verified.imaging).toEqual({
      sessionId: live.id,
      studies: [
        { studyInstanceUid: S1, deidentify: true },
        { studyInstanceUid: S2, deidentify: true },
        { studyInstanceUid: S3, deidentify: false },
      ],
      mayQuerySources: true,
    });
    // The token is not a signaling token.
    await expect(verifyAccessToken(answer.body!.token, { secret, audience: 'signaling' })).rejects.toThrow();
  });

  it('shows the patient site its own studies as stored, and lets an invited doctor not search the sources', async () => {
    const answer = await request(sato, live.id);
    const verified = await verifyAccessToken(answer.body!.token, { secret, audience: 'dicom-proxy' });
    expect(verified.imaging).toEqual({
      sessionId: live.id,
      studies: [
        { studyInstanceUid: S1, deidentify: false },
        { studyInstanceUid: S2, deidentify: false },
        { studyInstanceUid: S3, deidentify: false },
      ],
      mayQuerySources: false,
    });
  });

  it('refuses the uninvited, unknown and malformed ids and sessions not live with one 403, and audits each', async () => {
    const later = await schedule(3 * HOUR, 4 * HOUR);
    for (const [account, id] of [
      [yamada, live.id],
      [yamada, randomUUID()],
      [yamada, 'not-a-session-id'],
      [sato, later.id],
      [yamada, null],
    ] as const) {
      const answer = await request(account, id);
      expect(answer).toMatchObject({ status: 403, error: { message: 'forbidden', code: 'forbidden' } });
      expect(answer.headers['cache-control']).toBe('no-store');
    }
    const denied = (await audit.recent(20)).filter((entry) => entry.action === 'imaging.token-denied');
    expect(denied).toHaveLength(5);
    expect(denied.find((entry) => entry.sessionId === live.id)).toMatchObject({
      actorAccountId: yamada.id,
      outcome: 'denied',
      siteId: 'yamanaka',
      ip: '203.0.113.7',
      target: `session:${live.id}`,
      detail: { reason: 'not-invited' },
    });
    expect(denied.find((entry) => entry.sessionId === later.id)?.detail).toEqual({ reason: 'not-live' });
  });

  it('grants a guest once the host admitted it, de-identified outside the patient site', async () => {
    const admission = new SessionAdmission((await webDomain()).redis, quiet);
    await admission.knock(live, {
      accountId: yamada.id,
      displayName: yamada.displayName,
      siteId: 'yamanaka',
      siteNameJa: '山中診療所',
      siteNameEn: 'Yamanaka Clinic',
    });
    await admission.admit(live, yamada.id);
    const answer = await request(yamada, live.id);
    const verified = await verifyAccessToken(answer.body!.token, { secret, audience: 'dicom-proxy' });
    expect(verified.imaging?.studies).toEqual([
      { studyInstanceUid: S1, deidentify: true },
      { studyInstanceUid: S2, deidentify: true },
      { studyInstanceUid: S3, deidentify: false },
    ]);
    expect(verified.imaging?.mayQuerySources).toBe(false);
  });

  it('asks to sign in first', async () => {
    expect(await request(null, live.id)).toMatchObject({ status: 401 });
  });
});
