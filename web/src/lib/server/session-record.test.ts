import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccountStore,
  AuditLog,
  SessionChatLog,
  SigninStore,
  SiteStore,
  connectRedis,
  type RedisClient,
} from '@telemed/domain';
import { startTestRedis, type PrivateRedis } from '../../../../stack/private-redis.ts';
import * as recordRoute from '../../routes/api/v1/sessions/[id]/record/+server.ts';
import * as sessionRoute from '../../routes/api/v1/sessions/[id]/+server.ts';
import * as sessionsRoute from '../../routes/api/v1/sessions/+server.ts';
import { webDomain } from './domain.ts';

type Handler = (event: never) => Promise<Response> | Response;

const INJECTION = '<img src=x onerror=alert(1)> "引用"';
const FORMULA = '=HYPERLINK("http://example.invalid","開く")';

/**
 * The recording flag through the REST API (audited like any change of the session), and the
 * session's record — its chat included — exported as JSON and CSV by those who may, and audited.
 */
describe('recording flag and session record through the REST API on a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let sessionId = '';

  beforeAll(async () => {
    server = await startTestRedis();
    process.env.REDIS_URL = server.url;
    process.env.AUTH_SECRET ??= 'session-record-test-secret-0123456789abcdef';
    redis = await connectRedis(server.url, () => undefined);
    const quiet = pino({ level: 'silent' });
    const sites = new SiteStore(redis, quiet);
    await sites.create({ id: 'hub', nameJa: '南海大学病院', nameEn: 'Nankai', kind: 'hub' });
    await sites.create({ id: 'aoshima', nameJa: '青島町立病院', nameEn: 'Aoshima', kind: 'hospital' });
    const accounts = new AccountStore(redis, quiet);
    const signins = new SigninStore(redis, 3600);
    for (const [username, siteId, role] of [
      ['tanaka', 'hub', 'coordinator'],
      ['sato', 'aoshima', 'site-doctor'],
      ['ito', 'aoshima', 'coordinator'],
    ] as const) {
      const account = (await accounts.create({
        username,
        password: `${username}-password`,
        displayName: username,
        siteId,
        roles: [role],
      }))!;
      ids[username] = account.id;
      tokens[username] = await signins.open(account.id);
    }
  });
  afterAll(async () => {
    await (await webDomain()).redis.close();
    await redis?.close();
    await server?.stop();
  });

  async function call(
    handler: Handler | undefined,
    options: { as: string; method?: string; path: string; params?: Record<string, string>; body?: unknown },
  ): Promise<Response> {
    const url = new URL(options.path, 'http://telemed.test');
    const request = new Request(url, {
      method: options.method ?? 'GET',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[options.as]}` },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const event = {
      request,
      url,
      params: options.params ?? {},
      locals: { account: null, language: 'ja' },
      getClientAddress: () => '198.51.100.9',
    };
    return handler!(event as never);
  }

  const audited = async (action: string) =>
    (await new AuditLog(redis).recent(50)).filter((entry) => entry.action === action && entry.sessionId === sessionId);

  it('keeps recording off unless the session form or API turns it on, and audits the change', async () => {
    const start = Date.now() - 600_000;
    const created = await call(sessionsRoute.POST, {
      as: 'tanaka',
      method: 'POST',
      path: '/api/v1/sessions',
      body: {
        title: '録画確認',
        startsAt: new Date(start).toISOString(),
        endsAt: new Date(start + 3600_000).toISOString(),
        invitedSiteIds: ['aoshima'],
      },
    });
    expect(created.status).toBe(201);
    const { session } = await created.json();
    sessionId = session.id;
    expect(session.recordingAllowed).toBe(false);

    const denied = await call(sessionRoute.PATCH, {
      as: 'sato',
      method: 'PATCH',
      path: `/api/v1/sessions/${sessionId}`,
      params: { id: sessionId },
      body: { recordingAllowed: true },
    });
    expect(denied.status).toBe(403);
    const allowed = await call(sessionRoute.PATCH, {
      as: 'tanaka',
      method: 'PATCH',
      path: `/api/v1/sessions/${sessionId}`,
      params: { id: sessionId },
      body: { recordingAllowed: true },
    });
    expect((await allowed.json()).session.recordingAllowed).toBe(true);
    expect(await audited('session.updated')).toMatchObject([
      { outcome: 'success', detail: { changed: ['recordingAllowed'], recordingAllowed: true } },
      { outcome: 'denied' },
    ]);
    const invalid = await call(sessionRoute.PATCH, {
      as: 'tanaka',
      method: 'PATCH',
      path: `/api/v1/sessions/${sessionId}`,
      params: { id: sessionId },
      body: { recordingAllowed: 'yes' },
    });
    expect(invalid.status).toBe(400);
    const read = await call(sessionRoute.GET, {
      as: 'sato',
      path: `/api/v1/sessions/${sessionId}`,
      params: { id: sessionId },
    });
    expect((await read.json()).recordingAllowed).toBe(true);
  });

  it('exports the session with its whole chat to its managers only, as JSON and CSV, and audits each download', async () => {
    const chat = new SessionChatLog(redis, { warn: () => undefined });
    const limits = { maxMessages: 2000, rate: { messages: 100, perMs: 60_000 } };
    for (const text of [INJECTION, FORMULA, '二行\n目']) {
      await chat.append(
        sessionId,
        {
          participantId: randomUUID(),
          accountId: ids.sato!,
          displayName: '佐藤 花子',
          siteId: 'aoshima',
          siteNameJa: '青島町立病院',
          siteNameEn: 'Aoshima',
          text,
          studyInstanceUid: null,
          sentAt: '2026-12-01T01:05:00.000Z',
        },
        limits,
      );
    }
    const path = `/api/v1/sessions/${sessionId}/record`;
    for (const who of ['sato', 'ito']) {
      const refused = await call(recordRoute.GET, { as: who, path, params: { id: sessionId } });
      expect(refused.status).toBe(403);
    }

    const json = await call(recordRoute.GET, { as: 'tanaka', path, params: { id: sessionId } });
    expect(json.status).toBe(200);
    expect(json.headers.get('content-disposition')).toBe(`attachment; filename="session-${sessionId}.json"`);
    const record = await json.json();
    expect(record.session).toMatchObject({ id: sessionId, title: '録画確認', recordingAllowed: true });
    expect(record.chat.limit).toBe(2000);
    expect(record.chat.messages.map((message: { seq: number; text: string }) => [message.seq, message.text])).toEqual([
      [1, INJECTION],
      [2, FORMULA],
      [3, '二行\n目'],
    ]);

    const csv = await call(recordRoute.GET, { as: 'tanaka', path: `${path}?format=csv`, params: { id: sessionId } });
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const bytes = new Uint8Array(await csv.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder().decode(bytes);
    expect(text.split('\r\n')[0]).toBe(
      '"seq","sent_at_utc","sent_at_jst","account_id","display_name","site_id","site_name_ja","site_name_en","study_instance_uid","text"',
    );
    expect(text).toContain(`"1","2026-12-01T01:05:00.000Z","2026-12-01 10:05:00","${ids.sato}","佐藤 花子"`);
    expect(text).toContain('"<img src=x onerror=alert(1)> ""引用"""');
    // A formula someone typed stays text in a spreadsheet.
    expect(text).toContain(`"'=HYPERLINK(""http://example.invalid"",""開く"")"`);
    expect(text).toContain('"二行\n目"');

    const badFormat = await call(recordRoute.GET, {
      as: 'tanaka',
      path: `${path}?format=xml`,
      params: { id: sessionId },
    });
    expect(badFormat.status).toBe(400);

    const exports = await audited('session.record-exported');
    expect(exports.map((entry) => [entry.outcome, entry.detail?.format ?? null])).toEqual([
      ['success', 'csv'],
      ['success', 'json'],
      ['denied', null],
      ['denied', null],
    ]);
    expect(exports[0]?.detail).toEqual({ format: 'csv', chatMessages: 3 });
    expect(JSON.stringify(exports)).not.toContain('onerror');
  });
});
