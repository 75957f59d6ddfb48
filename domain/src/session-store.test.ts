import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { AccountStore } from './account-store.ts';
import { InputError } from './field-issues.ts';
import type { Account } from './records.ts';
import { connectRedis, type RedisClient } from './redis.ts';
import { SCHEMA_VERSION, SCHEMA_VERSION_KEY, SchemaVersionError, ensureSchema } from './schema-version.ts';
import { DoubleBookingError, SessionStateError, SessionStore } from './session-store.ts';
import type { SessionDraft } from './session-input.ts';
import { SiteStore } from './site-store.ts';

const quiet = pino({ level: 'silent' });

/** The field issues an InputError carries, as `field:code` strings. */
async function issuesOf(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InputError);
  return (error as InputError).issues.map((issue) => `${issue.field}:${issue.code}`);
}

// Sessions are scheduled next year: a date that has passed would make them ended and unchangeable.
const year = new Date().getUTCFullYear() + 1;

describe('scheduling sessions on a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let sessions: SessionStore;
  let coordinator: Account;
  let specialist: Account;

  const draft = (overrides: Partial<SessionDraft> = {}): SessionDraft => ({
    title: '離島合同カンファレンス',
    startsAt: `${year}-12-01T18:00`,
    endsAt: `${year}-12-01T19:00`,
    invitedSiteIds: ['hub'],
    ...overrides,
  });

  beforeAll(async () => {
    server = await startTestRedis();
    redis = await connectRedis(server.url, () => undefined);
  });

  beforeEach(async () => {
    await redis.flushAll();
    sessions = new SessionStore(redis, quiet);
    const sites = new SiteStore(redis, quiet);
    for (const id of ['hub', 'island-a', 'island-b']) {
      await sites.create({ id, nameJa: `${id}病院`, nameEn: `${id} Hospital`, kind: 'hospital' });
    }
    const accounts = new AccountStore(redis, quiet);
    coordinator = (await accounts.create({
      username: 'coordinator',
      password: 'coordinator-password',
      displayName: '調整 太郎',
      siteId: 'hub',
      roles: ['coordinator'],
    }))!;
    specialist = (await accounts.create({
      username: 'specialist',
      password: 'specialist-password',
      displayName: '専門 花子',
      siteId: 'hub',
      roles: ['specialist'],
    }))!;
  });

  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  it('stores Japan wall times as UTC, and explicit offsets as given', async () => {
    const { session } = await sessions.create(draft(), coordinator);
    expect(session).toMatchObject({
      startsAt: `${year}-12-01T09:00:00.000Z`,
      endsAt: `${year}-12-01T10:00:00.000Z`,
      hostAccountId: coordinator.id,
      status: 'scheduled',
      sequence: 0,
      cases: [],
    });
    const { session: utc } = await sessions.create(
      draft({
        startsAt: `${year}-12-02T01:00:00Z`,
        endsAt: `${year}-12-02T02:00:00+00:00`,
        invitedSiteIds: ['island-b'],
      }),
      coordinator,
    );
    expect(utc.startsAt).toBe(`${year}-12-02T01:00:00.000Z`);
    const { session: honolulu } = await sessions.create(
      draft({
        timeZone: 'Pacific/Honolulu',
        invitedSiteIds: ['island-a'],
        startsAt: `${year}-12-03T09:00`,
        endsAt: `${year}-12-03T10:00`,
      }),
      specialist,
    );
    expect(honolulu.startsAt).toBe(`${year}-12-03T19:00:00.000Z`);
    expect(await sessions.get(session.id)).toEqual(session);
  });

  it('names every bad field and stores nothing', async () => {
    expect(
      await issuesOf(
        sessions.create(
          draft({
            title: 'x'.repeat(201),
            timeZone: 'Mars/Olympus',
            startsAt: 'tomorrow',
            invitedSiteIds: ['no such site!'],
          }),
          coordinator,
        ),
      ),
    ).toEqual([
      'title:too_long',
      'startsAt:invalid_value',
      'timeZone:bad_time_zone',
      'invitedSiteIds.0:invalid_format',
    ]);
    expect(
      await issuesOf(
        sessions.create(
          draft({
            endsAt: `${year}-12-01T17:00`,
            invitedSiteIds: ['nowhere'],
            invitedAccountIds: [crypto.randomUUID()],
          }),
          coordinator,
        ),
      ),
    ).toEqual(['endsAt:end_before_start', 'invitedSiteIds.0:unknown_site', 'invitedAccountIds.0:unknown_account']);
    expect(await issuesOf(sessions.create(draft({ endsAt: `${year}-12-02T09:00` }), coordinator))).toEqual([
      'endsAt:too_long_duration',
    ]);
    expect(await redis.zCard('sessions:by-start')).toBe(0);
  });

  it('warns of double-booked sites and accounts, and books anyway only when told to', async () => {
    const { session: first } = await sessions.create(draft({ invitedSiteIds: ['hub', 'island-a'] }), coordinator);
    const clash = sessions.create(
      draft({ startsAt: `${year}-12-01T18:30`, endsAt: `${year}-12-01T20:00`, invitedSiteIds: ['island-a'] }),
      specialist,
    );
    const error = await clash.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DoubleBookingError);
    expect((error as DoubleBookingError).conflicts).toEqual([
      expect.objectContaining({ sessionId: first.id, siteIds: ['island-a'], accountIds: [] }),
    ]);
    // The same host at the same time is a double booking too, even for other sites.
    const hostClash = await sessions
      .create(draft({ invitedSiteIds: ['island-b'] }), coordinator)
      .catch((caught: unknown) => caught);
    expect((hostClash as DoubleBookingError).conflicts[0]?.accountIds).toEqual([coordinator.id]);
    // Back to back is fine; so is another site with another host.
    await sessions.create(draft({ startsAt: `${year}-12-01T19:00`, endsAt: `${year}-12-01T20:00` }), coordinator);
    await sessions.create(draft({ invitedSiteIds: ['island-b'] }), specialist);
    const allowed = await sessions.create(
      draft({ invitedSiteIds: ['island-a'], allowDoubleBooking: true }),
      specialist,
    );
    expect(allowed.conflicts.map((conflict) => conflict.sessionId)).toContain(first.id);
    // A cancelled session books nothing.
    await sessions.cancel(first.id);
    const afterCancel = await sessions
      .create(
        draft({ invitedSiteIds: ['hub'], hostAccountId: specialist.id, startsAt: `${year}-12-01T18:00` }),
        coordinator,
      )
      .catch((caught: unknown) => caught);
    expect((afterCancel as DoubleBookingError).conflicts.map((conflict) => conflict.sessionId)).not.toContain(first.id);
  });

  it('reschedules with a new sequence, and refuses a change based on an old one', async () => {
    const { session } = await sessions.create(draft(), coordinator);
    const moved = await sessions.update(session.id, { startsAt: `${year}-12-01T20:00`, endsAt: `${year}-12-01T21:30` });
    expect(moved?.session).toMatchObject({ startsAt: `${year}-12-01T11:00:00.000Z`, sequence: 1 });
    expect(
      await sessions.listStarting(new Date(`${year}-12-01T10:30:00Z`), new Date(`${year}-12-01T12:00:00Z`)),
    ).toHaveLength(1);
    await expect(sessions.update(session.id, { title: 'old view', expectedSequence: 0 })).rejects.toBeInstanceOf(
      SessionStateError,
    );
    expect(await issuesOf(sessions.update(session.id, { endsAt: `${year}-12-01T19:00` }))).toEqual([
      'endsAt:end_before_start',
    ]);
    expect((await sessions.get(session.id))?.title).toBe('離島合同カンファレンス');
    expect(await sessions.update(crypto.randomUUID(), { title: 'x' })).toBeNull();
  });

  it('keeps recording off unless asked for, and changes only what a patch names', async () => {
    const { session } = await sessions.create(draft(), coordinator);
    expect(session.recordingAllowed).toBe(false);
    const allowed = await sessions.update(session.id, { recordingAllowed: true });
    expect(allowed?.session).toMatchObject({ recordingAllowed: true, sequence: 1 });
    const retitled = await sessions.update(session.id, { title: '録画あり' });
    expect(retitled?.session).toMatchObject({ recordingAllowed: true, title: '録画あり' });
    expect((await sessions.update(session.id, { recordingAllowed: false }))?.session.recordingAllowed).toBe(false);
    const { session: recorded } = await sessions.create(
      draft({ recordingAllowed: true, allowDoubleBooking: true }),
      coordinator,
    );
    expect(recorded.recordingAllowed).toBe(true);
    // A session stored before the flag existed reads as "not allowed".
    const { recordingAllowed: _dropped, ...older } = recorded;
    await redis.set(`session:${recorded.id}`, JSON.stringify(older));
    expect((await sessions.get(recorded.id))?.recordingAllowed).toBe(false);
  });

  it('applies concurrent edits one after the other instead of losing one', async () => {
    const { session } = await sessions.create(draft(), coordinator);
    await Promise.all([
      sessions.update(session.id, { title: '症例検討会' }),
      sessions.update(session.id, { description: '肺結節 2例' }),
      sessions.update(session.id, { invitedSiteIds: ['hub', 'island-b'] }),
    ]);
    expect(await sessions.get(session.id)).toMatchObject({
      title: '症例検討会',
      description: '肺結節 2例',
      invitedSiteIds: ['hub', 'island-b'],
      sequence: 3,
    });
  });

  it('cancels once; a cancelled session cannot be changed', async () => {
    const { session } = await sessions.create(draft(), coordinator);
    expect((await sessions.cancel(session.id))?.status).toBe('cancelled');
    await expect(sessions.update(session.id, { title: 'x' })).rejects.toThrow('cancelled');
    await expect(sessions.cancel(session.id)).rejects.toBeInstanceOf(SessionStateError);
  });

  it('attaches cases with their consent reference and checks the study UIDs', async () => {
    const { session } = await sessions.create(draft(), coordinator);
    const attached = await sessions.attachCase(
      session.id,
      {
        patientRef: 'AO-2026-0142',
        summary: '右下葉結節の経過',
        studyInstanceUids: ['1.2.392.200036.9116.2.6.1.48.1214833767.1500000000.1'],
        consent: { documentNumber: 'IC-2026-118', recordedBy: '佐藤 花子', recordedAt: '2026-11-20T14:00' },
      },
      coordinator,
    );
    expect(attached?.sessionCase).toMatchObject({
      patientRef: 'AO-2026-0142',
      consent: { documentNumber: 'IC-2026-118', recordedAt: '2026-11-20T05:00:00.000Z' },
      attachedByAccountId: coordinator.id,
    });
    expect((await sessions.get(session.id))?.cases).toHaveLength(1);
    expect(attached?.sessionCase).toMatchObject({ patientSiteId: null, deidentifyOutsidePatientSite: false });
    const deidentified = await sessions.attachCase(
      session.id,
      {
        patientRef: 'AO-2026-0143',
        studyInstanceUids: ['1.2.3.4.5'],
        consent: { documentNumber: 'IC-2026-119', recordedBy: '佐藤 花子', recordedAt: '2026-11-20T14:00' },
        patientSiteId: 'island-a',
        deidentifyOutsidePatientSite: true,
      },
      coordinator,
    );
    expect(deidentified?.sessionCase).toMatchObject({ patientSiteId: 'island-a', deidentifyOutsidePatientSite: true });
    expect(
      await issuesOf(
        sessions.attachCase(
          session.id,
          {
            patientRef: 'X',
            studyInstanceUids: ['1.2.3'],
            consent: { documentNumber: 'IC', recordedBy: 'x', recordedAt: '2026-11-20T14:00' },
            patientSiteId: 'nowhere',
          },
          coordinator,
        ),
      ),
    ).toEqual(['patientSiteId:unknown_site']);
    expect(
      await issuesOf(
        sessions.attachCase(
          session.id,
          {
            patientRef: '',
            studyInstanceUids: ['1.2.03', 'x'],
            consent: { documentNumber: '', recordedBy: 'x', recordedAt: 'yesterday' },
          },
          coordinator,
        ),
      ),
    ).toEqual([
      'patientRef:required',
      'studyInstanceUids.0:invalid_format',
      'studyInstanceUids.1:invalid_format',
      'consent.documentNumber:required',
      'consent.recordedAt:invalid_value',
    ]);
    expect((await sessions.get(session.id))?.cases).toHaveLength(2);
  });

  it('lists by time range, by invitation and the open sessions a host holds', async () => {
    const { session: mine } = await sessions.create(draft({ invitedSiteIds: ['island-a'] }), coordinator);
    await sessions.create(
      draft({ startsAt: `${year}-12-05T18:00`, endsAt: `${year}-12-05T19:00`, invitedSiteIds: ['island-b'] }),
      specialist,
    );
    const islandDoctor = { id: crypto.randomUUID(), siteId: 'island-a' };
    expect((await sessions.listFor(islandDoctor)).map((session) => session.id)).toEqual([mine.id]);
    const overlapping = await sessions.listOverlapping(
      new Date(`${year}-12-01T09:30:00Z`),
      new Date(`${year}-12-01T09:45:00Z`),
    );
    expect(overlapping.map((session) => session.id)).toEqual([mine.id]);
    expect(
      (await sessions.listOpenHostedBy(coordinator.id, new Date(`${year}-11-30T00:00:00Z`))).map(
        (session) => session.id,
      ),
    ).toEqual([mine.id]);
    expect(await sessions.listOpenHostedBy(coordinator.id, new Date(`${year}-12-02T00:00:00Z`))).toEqual([]);
  });
});

describe('schema version', () => {
  let server: PrivateRedis;
  let redis: RedisClient;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = await connectRedis(server.url, () => undefined);
  });

  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  it('migrates version 1 records in place, keeping what does not parse', async () => {
    await redis.flushAll();
    const sessionId = '3f6c2a1e-5b7d-4c8e-9a10-d2b4e6f80a99';
    await redis.set('site:old', JSON.stringify({ id: 'old', nameJa: '旧', nameEn: 'Old', kind: 'clinic', region: '' }));
    await redis.set(
      `session:${sessionId}`,
      JSON.stringify({
        id: sessionId,
        title: '旧形式',
        description: '',
        startsAt: '2036-01-01T00:00:00.000Z',
        endsAt: '2036-01-01T01:00:00.000Z',
        hostAccountId: '3f6c2a1e-5b7d-4c8e-9a10-d2b4e6f80a98',
        invitedSiteIds: ['old'],
        invitedAccountIds: [],
        status: 'scheduled',
        createdAt: '2025-12-01T00:00:00.000Z',
        updatedAt: '2025-12-01T00:00:00.000Z',
      }),
    );
    await redis.set('session:00000000-0000-4000-8000-000000000000', '{broken');
    await ensureSchema(redis, quiet);
    expect(await redis.get(SCHEMA_VERSION_KEY)).toBe(String(SCHEMA_VERSION));
    expect(JSON.parse((await redis.get(`session:${sessionId}`))!)).toMatchObject({ cases: [], sequence: 0 });
    expect(JSON.parse((await redis.get('site:old'))!).contact).toEqual({ person: '', phone: '', email: '' });
    expect(await redis.get('session:00000000-0000-4000-8000-000000000000')).toBe('{broken');
    // The migrated record now takes part in optimistic updates.
    const ended = await new SessionStore(redis, quiet).end(sessionId);
    expect(ended).toMatchObject({ status: 'ended', sequence: 1 });
  });

  it('refuses data written by a newer release', async () => {
    await redis.set(SCHEMA_VERSION_KEY, String(SCHEMA_VERSION + 1));
    await expect(ensureSchema(redis, quiet)).rejects.toBeInstanceOf(SchemaVersionError);
    await redis.flushAll();
    await ensureSchema(redis, quiet);
    expect(await redis.get(SCHEMA_VERSION_KEY)).toBe(String(SCHEMA_VERSION));
  });
});
