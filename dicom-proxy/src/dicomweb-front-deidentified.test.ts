import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintAccessToken } from '@telemed/contract/access-token';
import { writeTestSeries, type TestSeries } from '../../stack/dicom-test-series.ts';
import { encodeIso2022Japanese } from '../../stack/iso-2022-jp-encoding.ts';
import { startTestOrthanc, type PrivateOrthanc } from '../../stack/private-orthanc.ts';
import { readDicomProxyConfig } from './config.ts';
import { remapUid } from './deidentification.ts';
import { deidentificationKey } from './deidentified-study.ts';
import { startDicomProxyService, type DicomProxyService } from './dicom-proxy-service.ts';
import type { DicomJsonDataset } from './dicom-json.ts';
import { multipartBoundary, readMultipartRelated } from './multipart-related-reader.ts';
import { Part10Instance } from './part10-instance.ts';

const SECRET = 'deid-front-test-secret-deid-front-test-0123';
const SESSION = '0b4f7c1e-2d3a-4e5f-8a9b-0c1d2e3f4a5b';
const SC_FILE = '/usr/lib/python3/dist-packages/pydicom/data/test_files/SC_rgb_rle_2frame.dcm';
const PATIENT_ID = 'DEID-PT-7731';

let orthanc: PrivateOrthanc;
let service: DicomProxyService;
let base: string;
let work: string;
let series: TestSeries;
let sc: Part10Instance;
let deidToken: string;
let plainToken: string;
/** Every byte the de-identified reader received, for the final leak check. */
const received: Buffer[] = [];

const context = () => ({ sessionId: SESSION, key: deidentificationKey(SECRET) });
const remapped = (uid: string) => remapUid(uid, context());

async function get(path: string, bearer = deidToken, accept?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${bearer}` };
  if (accept) headers.accept = accept;
  const response = await fetch(path.startsWith('http') ? path : `${base}${path}`, { headers });
  const bytes = Buffer.from(await response.arrayBuffer());
  if (bearer === deidToken) received.push(bytes);
  return { status: response.status, headers: response.headers, bytes };
}

async function parts(answer: { headers: Headers; bytes: Buffer }) {
  const boundary = multipartBoundary(answer.headers.get('content-type'));
  if (!boundary) throw new Error(`not multipart: ${answer.bytes.toString()}`);
  const found: { headers: Record<string, string>; bytes: Buffer }[] = [];
  for await (const part of readMultipartRelated(Readable.from([answer.bytes]), boundary, {
    maxPartBytes: 50 * 1024 ** 2,
  })) {
    found.push({ headers: part.headers, bytes: Buffer.concat(part.bytes.chunks) });
  }
  return found;
}

const json = (answer: { bytes: Buffer }) => JSON.parse(answer.bytes.toString('utf8')) as DicomJsonDataset[];

const token = (deidentify: boolean) =>
  mintAccessToken(
    {
      sub: 'acct-2',
      name: 'Remote reader',
      siteId: 'site-2',
      roles: ['physician'],
      imaging: {
        sessionId: SESSION,
        studies: [series.studyInstanceUid, sc.studyInstanceUid].map((studyInstanceUid) => ({
          studyInstanceUid,
          deidentify,
        })),
        mayQuerySources: false,
      },
    },
    { secret: SECRET, audience: 'dicom-proxy', ttlSeconds: 600 },
  );

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'deid-front-test-'));
  orthanc = await startTestOrthanc();
  series = await writeTestSeries({
    dir: join(work, 'series'),
    modality: 'MR',
    slices: 3,
    rows: 32,
    columns: 32,
    patientName: 'Yamada^Hanako=山田^花子=やまだ^はなこ',
    patientId: PATIENT_ID,
    characterSet: 'ISO 2022 IR 87',
    studyDescription: '頭部MRI',
    seed: 'deid-front-test',
  });
  sc = Part10Instance.parse(await readFile(SC_FILE));
  await orthanc.storeFiles([...series.instances.map((i) => i.path), SC_FILE]);
  const config = readDicomProxyConfig({
    DICOM_PROXY_PORT: '0',
    // Audit records are tested with a real Redis in image-audit.test.ts and the imaging e2e.
    DICOM_AUDIT: 'off',
    LOG_LEVEL: 'silent',
    DICOM_SOURCES: JSON.stringify([{ id: 'orthanc-d', kind: 'dicomweb', url: orthanc.dicomWebUrl }]),
    DICOM_CACHE_DIR: join(work, 'cache'),
    DICOM_UPSTREAM_TIMEOUT_MS: '5000',
    AUTH_SECRET: SECRET,
  });
  service = await startDicomProxyService(config, pino({ level: 'silent' }));
  base = `http://127.0.0.1:${service.port}`;
  deidToken = await token(true);
  plainToken = await token(false);
}, 60_000);

afterAll(async () => {
  await service?.close();
  await orthanc?.stop().catch(() => undefined);
  await rm(work, { recursive: true, force: true });
});

describe('DICOMweb front, de-identified grants', () => {
  const study = () => `/dicom-web/studies/${remapped(series.studyInstanceUid)}`;
  const seriesPath = () => `${study()}/series/${remapped(series.seriesInstanceUid)}`;

  it('lists studies, series and instances by remapped UIDs', async () => {
    const studies = json(await get('/dicom-web/studies?includefield=all'));
    const uids = studies.map((s) => s['0020000D']?.Value?.[0]);
    expect(uids).toContain(remapped(series.studyInstanceUid));
    const ours = studies.find((s) => s['0020000D']?.Value?.[0] === remapped(series.studyInstanceUid));
    expect(ours?.['00120062']?.Value).toEqual(['YES']);
    expect(String(ours?.['00081190']?.Value?.[0])).toBe(`${base}${study()}`);
    const byUid = json(await get(`/dicom-web/studies?StudyInstanceUID=${remapped(series.studyInstanceUid)}`));
    expect(byUid).toHaveLength(1);
    const seriesList = json(await get(`${study()}/series`));
    expect(seriesList.map((s) => s['0020000E']?.Value?.[0])).toEqual([remapped(series.seriesInstanceUid)]);
    const instances = json(await get(`${seriesPath()}/instances`));
    expect(instances.map((i) => i['00080018']?.Value?.[0]).sort()).toEqual(
      series.instances.map((i) => remapped(i.sopInstanceUid)).sort(),
    );
  });

  it('serves metadata, bulk data and frames under remapped UIDs', async () => {
    const metadata = json(await get(`${seriesPath()}/metadata`));
    expect(metadata).toHaveLength(3);
    expect(metadata[0]?.['00100010']).toEqual({ vr: 'PN' });
    expect(metadata[0]?.['00100020']).toEqual({ vr: 'LO' });
    const uri = metadata[0]?.['7FE00010']?.BulkDataURI ?? '';
    expect(uri.startsWith(`${base}${seriesPath()}/instances/2.25.`)).toBe(true);
    const [pixels] = await parts(await get(uri));
    expect(pixels?.bytes.length).toBe(32 * 32 * 2);
    const sop = remapped(series.instances[0]?.sopInstanceUid ?? '');
    const frames = await get(`${seriesPath()}/instances/${sop}/frames/1`);
    expect(frames.status).toBe(200);
    const [frame] = await parts(frames);
    expect(frame?.bytes.length).toBe(32 * 32 * 2);
    expect(frame?.headers['content-location']).toBe(`${base}${seriesPath()}/instances/${sop}/frames/1`);
    // Bulk data outside the pixel module may name the patient: not served de-identified.
    expect((await get(`${seriesPath()}/instances/${sop}/bulk/00100010`)).status).toBe(404);
  });

  it('retrieves de-identified Part 10 instances', async () => {
    const answer = await get(seriesPath());
    expect(answer.status).toBe(200);
    const instances = (await parts(answer)).map((part) => Part10Instance.parse(part.bytes));
    expect(instances.map((i) => i.sopInstanceUid).sort()).toEqual(
      series.instances.map((i) => remapped(i.sopInstanceUid)).sort(),
    );
    expect(instances[0]?.seriesInstanceUid).toBe(remapped(series.seriesInstanceUid));
    expect(instances[0]?.dataSet.string('x00120062')).toBe('YES');
    expect(instances[0]?.frame(1).bytes.length).toBe(32 * 32 * 2);
  });

  it('answers 404 for UIDs that map to nothing, and for original UIDs below the study', async () => {
    expect((await get(`${study()}/series/2.25.12345/metadata`)).status).toBe(404);
    expect((await get(`${study()}/series/${series.seriesInstanceUid}/metadata`)).status).toBe(404);
    expect((await get(`/dicom-web/studies/2.25.98765/series`)).status).toBe(403);
  });

  it('refuses an instance that may carry burned-in text', async () => {
    const scStudy = `/dicom-web/studies/${remapped(sc.studyInstanceUid)}`;
    const scInstance = `${scStudy}/series/${remapped(sc.seriesInstanceUid)}/instances/${remapped(sc.sopInstanceUid)}`;
    const frames = await get(
      `${scInstance}/frames/1`,
      deidToken,
      'multipart/related; type="application/octet-stream"; transfer-syntax=*',
    );
    expect(frames.status).toBe(403);
    expect(JSON.parse(frames.bytes.toString())).toMatchObject({ error: { code: 'deidentification_refused' } });
    expect((await get(scInstance)).status).toBe(403);
    expect((await get(`${scStudy}/series/${remapped(sc.seriesInstanceUid)}`)).status).toBe(403);
  });

  it('renders under remapped UIDs, and refuses burned-in text in rendered images and thumbnails too', async () => {
    const sop = remapped(series.instances[1]?.sopInstanceUid ?? '');
    const frame = await get(`${seriesPath()}/instances/${sop}/frames/1/rendered`);
    expect(frame.status).toBe(200);
    expect(frame.headers.get('content-type')).toBe('image/jpeg');
    const thumbnail = await get(`${seriesPath()}/thumbnail`);
    expect(thumbnail.status).toBe(200);
    expect(Buffer.compare(thumbnail.bytes, (await get(`${seriesPath()}/instances/${sop}/thumbnail`)).bytes)).toBe(0);
    const images = await parts(await get(`${seriesPath()}/rendered`, deidToken, 'multipart/related; type="image/png"'));
    expect(images).toHaveLength(3);
    expect(images[0]?.headers['content-location']).toMatch(new RegExp(`^${base}${seriesPath()}/instances/2\\.25\\.`));
    const scStudy = `/dicom-web/studies/${remapped(sc.studyInstanceUid)}`;
    const scSeries = `${scStudy}/series/${remapped(sc.seriesInstanceUid)}`;
    const scInstance = `${scSeries}/instances/${remapped(sc.sopInstanceUid)}`;
    for (const path of [
      `${scInstance}/rendered`,
      `${scInstance}/frames/1/rendered`,
      `${scInstance}/thumbnail`,
      `${scInstance}/frames/2/thumbnail`,
      `${scSeries}/rendered`,
      `${scSeries}/thumbnail`,
      `${scStudy}/thumbnail`,
    ]) {
      const refused = await get(path);
      expect(refused.status, path).toBe(403);
      expect(JSON.parse(refused.bytes.toString()), path).toMatchObject({ error: { code: 'deidentification_refused' } });
    }
    // The same instance is rendered for a reader who may see the original.
    const original = `/dicom-web/studies/${sc.studyInstanceUid}/series/${sc.seriesInstanceUid}/instances/${sc.sopInstanceUid}`;
    expect((await get(`${original}/rendered`, plainToken)).status).toBe(200);
  });

  it('shows the originals to a reader in the patient’s care', async () => {
    const path = `/dicom-web/studies/${series.studyInstanceUid}/series/${series.seriesInstanceUid}/metadata`;
    const metadata = json(await get(path, plainToken));
    expect(metadata[0]?.['00100010']?.Value?.[0]).toEqual({
      Alphabetic: 'Yamada^Hanako',
      Ideographic: '山田^花子',
      Phonetic: 'やまだ^はなこ',
    });
    expect(metadata[0]?.['00100020']?.Value).toEqual([PATIENT_ID]);
    expect(metadata[0]?.['0020000D']?.Value).toEqual([series.studyInstanceUid]);
  });

  it('sent the de-identified reader no original name, patient ID or UID', () => {
    expect(received.length).toBeGreaterThan(10);
    const all = Buffer.concat(received);
    const needles = [
      Buffer.from('Yamada'),
      Buffer.from('山田'),
      Buffer.from('やまだ'),
      Buffer.from(encodeIso2022Japanese('山田', 'ISO 2022 IR 87')),
      Buffer.from(PATIENT_ID),
      Buffer.from('頭部'),
      ...[series.studyInstanceUid, series.seriesInstanceUid, ...series.instances.map((i) => i.sopInstanceUid)].map(
        (uid) => Buffer.from(uid),
      ),
      Buffer.from(sc.studyInstanceUid),
    ];
    for (const needle of needles) expect(all.indexOf(needle), needle.toString()).toBe(-1);
  });
});
