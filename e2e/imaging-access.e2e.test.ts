import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { pino } from 'pino';
import {
  AuditLog,
  DEMO_SESSION_ID,
  DEMO_STUDY_INSTANCE_UID,
  StudyPrefetchQueue,
  connectRedis,
  type RedisClient,
} from '@telemed/domain';
import { launchThrowawayStack, type Stack } from '../stack/stack.ts';
import { ensureSite, page, testAccount, type TestAccount } from './api-client.ts';

/**
 * The whole chain for images: the web server grants an invited participant a token for the live
 * session's studies, and the DICOM proxy serves exactly those from the (private demo) PACS —
 * with the patient's Japanese name intact — refuses everything else, and audits each access.
 */

const PATIENT_NAME = '00100010';
const STUDY_UID = '0020000D';
const SERIES_UID = '0020000E';

describe('images for a session', () => {
  let stack: Stack;
  let redis: RedisClient;
  let doctor: TestAccount;
  let outsider: TestAccount;
  let proxyUrl: string;

  const tokenFor = async (who: TestAccount) => {
    const response = await page(stack.webUrl, who, `/api/imaging-token?sessionId=${DEMO_SESSION_ID}`);
    return { status: response.status, token: response.ok ? ((await response.json()) as { token: string }).token : '' };
  };
  const proxy = (path: string, token: string, accept = 'application/dicom+json') =>
    fetch(`${proxyUrl}${path}`, { headers: { authorization: `Bearer ${token}`, accept } });

  beforeAll(async () => {
    stack = await launchThrowawayStack({ sfuWorkers: 1 });
    proxyUrl = `http://127.0.0.1:${stack.ports.dicomProxy}/dicom-web`;
    redis = await connectRedis(stack.redisUrl, () => undefined);
    await ensureSite(redis, 'yamanaka', '山中診療所', 'Yamanaka Clinic');
    doctor = await testAccount(redis, 'island-doctor', 'aoshima', ['site-doctor'], '島 医師');
    outsider = await testAccount(redis, 'yamada', 'yamanaka', ['site-doctor'], '山田 太郎');
  });

  afterAll(async () => {
    await redis?.close();
    await stack?.stop();
  });

  it('serves the shared study to an invited participant, Japanese name intact, and audits it', async () => {
    onTestFailed(async () => console.error(await stack.logTails(80)));
    const { status, token } = await tokenFor(doctor);
    expect(status).toBe(200);

    const studies = await proxy('/studies?includefield=PatientName', token);
    expect(studies.status).toBe(200);
    const [study] = (await studies.json()) as Record<string, { Value?: unknown[] }>[];
    expect(study?.[STUDY_UID]?.Value?.[0]).toBe(DEMO_STUDY_INSTANCE_UID);
    expect(study?.[PATIENT_NAME]?.Value?.[0]).toMatchObject({ Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' });

    const series = (await (await proxy(`/studies/${DEMO_STUDY_INSTANCE_UID}/series`, token)).json()) as Record<
      string,
      { Value?: string[] }
    >[];
    const seriesUid = series[0]?.[SERIES_UID]?.Value?.[0];
    const metadata = await proxy(`/studies/${DEMO_STUDY_INSTANCE_UID}/series/${seriesUid}/metadata`, token);
    expect(metadata.status).toBe(200);
    expect(((await metadata.json()) as unknown[]).length).toBe(40);

    // Each access is recorded once its answer has gone out.
    const imageAudit = async () =>
      (await new AuditLog(redis).recent(20)).filter((entry) => entry.action.startsWith('image.'));
    await expect
      .poll(async () => (await imageAudit()).map((entry) => entry.action))
      .toEqual(expect.arrayContaining(['image.query', 'image.metadata']));
    const audit = await imageAudit();
    expect(audit[0]).toMatchObject({
      actorAccountId: doctor.account.id,
      sessionId: DEMO_SESSION_ID,
      siteId: 'aoshima',
    });
  });

  it('has fetched the shared study into the cache ahead of the conference', async () => {
    const prefetch = new StudyPrefetchQueue(redis, pino({ level: 'silent' }));
    await expect
      .poll(async () => (await prefetch.progressFor(DEMO_SESSION_ID)).get(DEMO_STUDY_INSTANCE_UID), { timeout: 30_000 })
      .toMatchObject({ state: 'done', instances: 40 });
  });

  it('refuses other studies, missing tokens and accounts that are not invited', async () => {
    const { token } = await tokenFor(doctor);
    expect((await proxy('/studies/1.2.3.4.5/series', token)).status).toBe(403);
    expect((await proxy('/studies/not-a-uid/series', token)).status).toBe(400);
    expect((await fetch(`${proxyUrl}/studies`)).status).toBe(401);
    expect((await tokenFor(outsider)).status).toBe(403);
  });
});
