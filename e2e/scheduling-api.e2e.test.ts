import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, connectRedis, type RedisClient } from '@telemed/domain';
import { launchThrowawayStack, type ThrowawayStack } from '../stack/stack.ts';
import { api, ensureSite, testAccount, type TestAccount } from './api-client.ts';

/**
 * The scheduling REST API against the real web server and Redis: the rules (times, references,
 * double bookings, state), the typed errors, the audit trail, and that a restart of the server
 * and Redis loses nothing.
 */

interface ErrorBody {
  error: {
    code: string;
    message: string;
    fields?: { field: string; code: string }[];
    conflicts?: { sessionId: string }[];
  };
}
interface SessionBody {
  session: { id: string; startsAt: string; sequence: number; status: string; cases: unknown[] };
  conflicts: { sessionId: string }[];
}

// Sessions are scheduled next year: a date that has passed would make them ended and unchangeable.
const year = new Date().getUTCFullYear() + 1;

describe('scheduling API', () => {
  let stack: ThrowawayStack;
  let redis: RedisClient;
  let coordinator: TestAccount;
  let doctor: TestAccount;
  let webUrl: string;

  const draft = (overrides: Record<string, unknown> = {}) => ({
    title: '離島合同症例検討会',
    description: '胸部CT 2例',
    startsAt: `${year}-01-12T18:00`,
    endsAt: `${year}-01-12T19:30`,
    invitedSiteIds: ['api-island'],
    ...overrides,
  });

  beforeAll(async () => {
    stack = await launchThrowawayStack({ sfuWorkers: 1, persistent: true });
    webUrl = stack.webUrl;
    redis = await connectRedis(stack.redisUrl, () => undefined);
    await ensureSite(redis, 'api-hub', 'API大学病院', 'API University Hospital');
    await ensureSite(redis, 'api-island', 'API島診療所', 'API Island Clinic');
    coordinator = await testAccount(redis, 'api-coordinator', 'api-hub', ['coordinator'], '調整 一郎');
    doctor = await testAccount(redis, 'api-doctor', 'api-island', ['site-doctor'], '島 医師');
  });

  afterAll(async () => {
    await redis?.close();
    await stack?.stop();
  });

  it('schedules a session in Japan time and audits it', async () => {
    const created = await api<SessionBody>(webUrl, coordinator, 'POST', '/api/v1/sessions', draft());
    expect(created.status).toBe(201);
    expect(created.body.session).toMatchObject({
      startsAt: `${year}-01-12T09:00:00.000Z`,
      sequence: 0,
      status: 'scheduled',
    });
    const audit = await new AuditLog(redis).recent(5);
    expect(audit.find((entry) => entry.action === 'session.created')).toMatchObject({
      actorAccountId: coordinator.account.id,
      siteId: 'api-hub',
      target: `session:${created.body.session.id}`,
      outcome: 'success',
      ip: expect.any(String),
    });
    const mine = await api<{ sessions: { id: string }[] }>(
      webUrl,
      doctor,
      'GET',
      `/api/v1/sessions?from=${year}-01-01T00:00:00Z`,
    );
    expect(mine.body.sessions.map((session) => session.id)).toContain(created.body.session.id);
  });

  it('answers bad input with a typed 400 naming each field, and stores nothing', async () => {
    const before = await redis.zCard('sessions:by-start');
    const bad = await api<ErrorBody>(
      webUrl,
      coordinator,
      'POST',
      '/api/v1/sessions',
      draft({ title: 'x'.repeat(300), timeZone: 'Asia/Nowhere', invitedSiteIds: ['no-such-site'] }),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_input');
    expect(bad.body.error.fields?.map((field) => `${field.field}:${field.code}`)).toEqual([
      'title:too_long',
      'timeZone:bad_time_zone',
    ]);
    const references = await api<ErrorBody>(
      webUrl,
      coordinator,
      'POST',
      '/api/v1/sessions',
      draft({ endsAt: `${year}-01-12T17:00`, invitedSiteIds: ['no-such-site'] }),
    );
    expect(references.body.error.fields?.map((field) => `${field.field}:${field.code}`)).toEqual([
      'endsAt:end_before_start',
      'invitedSiteIds.0:unknown_site',
    ]);
    const notJson = await api<ErrorBody>(webUrl, coordinator, 'POST', '/api/v1/sessions', '{"title":');
    expect(notJson.status).toBe(400);
    expect(await redis.zCard('sessions:by-start')).toBe(before);
  });

  it('warns of a double booking with a 409, and books it when told to', async () => {
    const clash = await api<ErrorBody>(
      webUrl,
      coordinator,
      'POST',
      '/api/v1/sessions',
      draft({ title: '重複', startsAt: `${year}-01-12T19:00`, endsAt: `${year}-01-12T20:00` }),
    );
    expect(clash.status).toBe(409);
    expect(clash.body.error.code).toBe('double_booking');
    expect(clash.body.error.conflicts).toHaveLength(1);
    const anyway = await api<SessionBody>(
      webUrl,
      coordinator,
      'POST',
      '/api/v1/sessions',
      draft({
        title: '重複',
        startsAt: `${year}-01-12T19:00`,
        endsAt: `${year}-01-12T20:00`,
        allowDoubleBooking: true,
      }),
    );
    expect(anyway.status).toBe(201);
    expect(anyway.body.conflicts).toHaveLength(1);
  });

  it('reschedules, attaches a case with its consent, cancels, and audits each', async () => {
    const { body } = await api<SessionBody>(
      webUrl,
      coordinator,
      'POST',
      '/api/v1/sessions',
      draft({ startsAt: `${year}-02-02T18:00`, endsAt: `${year}-02-02T19:00` }),
    );
    const id = body.session.id;
    const moved = await api<SessionBody>(webUrl, coordinator, 'PATCH', `/api/v1/sessions/${id}`, {
      startsAt: `${year}-02-03T18:00`,
      endsAt: `${year}-02-03T19:00`,
      expectedSequence: 0,
    });
    expect(moved.body.session).toMatchObject({ startsAt: `${year}-02-03T09:00:00.000Z`, sequence: 1 });
    const stale = await api<ErrorBody>(webUrl, coordinator, 'PATCH', `/api/v1/sessions/${id}`, {
      title: 'old',
      expectedSequence: 0,
    });
    expect(stale.status).toBe(409);
    const attached = await api<{ case: { id: string } }>(webUrl, coordinator, 'POST', `/api/v1/sessions/${id}/cases`, {
      patientRef: 'KS-0042',
      studyInstanceUids: ['1.2.826.0.1.3680043.8.498.1'],
      consent: { documentNumber: 'IC-77', recordedBy: '島 医師', recordedAt: `${year}-01-30T10:00` },
    });
    expect(attached.status).toBe(201);
    const cancelled = await api<{ status: string; sequence: number }>(
      webUrl,
      coordinator,
      'POST',
      `/api/v1/sessions/${id}/cancel`,
      { reason: '台風のため' },
    );
    expect(cancelled.body).toMatchObject({ status: 'cancelled', sequence: 3 });
    const afterCancel = await api<ErrorBody>(webUrl, coordinator, 'PATCH', `/api/v1/sessions/${id}`, { title: 'x' });
    expect(afterCancel.status).toBe(409);
    const actions = (await new AuditLog(redis).recent(20))
      .filter((entry) => entry.sessionId === id)
      .map((entry) => `${entry.action}:${entry.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'session.created:success',
        'session.updated:success',
        'session.case-attached:success',
        'session.cancelled:success',
      ]),
    );
    const caseRecord = (await new AuditLog(redis).recent(20)).find((entry) => entry.action === 'session.case-attached');
    expect(caseRecord?.detail).toMatchObject({ consent: { documentNumber: 'IC-77', recordedBy: '島 医師' } });
  });

  it('refuses the unauthenticated and the unentitled, with typed errors and an audit record', async () => {
    const anonymous = await api<ErrorBody>(webUrl, null, 'POST', '/api/v1/sessions', draft());
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthenticated');
    const doctorCreates = await api<ErrorBody>(webUrl, doctor, 'POST', '/api/v1/sessions', draft());
    expect(doctorCreates.status).toBe(403);
    expect((await new AuditLog(redis).recent(1))[0]).toMatchObject({ action: 'session.created', outcome: 'denied' });
  });

  it('publishes an OpenAPI document generated from the schemas', async () => {
    const { status, body } = await api<{
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: object };
    }>(webUrl, null, 'GET', '/api/v1/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    expect(Object.keys(body.paths)).toEqual(expect.arrayContaining(['/api/v1/sessions', '/api/v1/sessions/{id}']));
    expect(Object.keys(body.components.schemas)).toEqual(
      expect.arrayContaining(['SessionDraft', 'Error', 'FieldIssue']),
    );
  });

  it('keeps every session across a restart of the server and Redis', async () => {
    const before = await api<{ sessions: { id: string; sequence: number; title: string }[] }>(
      webUrl,
      coordinator,
      'GET',
      `/api/v1/sessions?scope=all&from=${year}-01-01T00:00:00Z&to=${year}-03-01T00:00:00Z`,
    );
    expect(before.body.sessions.length).toBeGreaterThanOrEqual(3);
    await redis.close();
    await stack.restart();
    redis = await connectRedis(stack.redisUrl, () => undefined);
    const after = await api<{ sessions: { id: string; sequence: number; title: string }[] }>(
      webUrl,
      coordinator,
      'GET',
      `/api/v1/sessions?scope=all&from=${year}-01-01T00:00:00Z&to=${year}-03-01T00:00:00Z`,
    );
    expect(after.status).toBe(200);
    expect(after.body.sessions).toEqual(before.body.sessions);
    expect((await new AuditLog(redis).recent(500)).length).toBeGreaterThan(5);
  });
});
