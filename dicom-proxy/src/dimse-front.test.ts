import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintAccessToken } from '@telemed/contract/access-token';
import { writeTestSeries, type TestSeries } from '../../stack/dicom-test-series.ts';
import { startTestDcmqrscp, type PrivateDcmqrscp } from '../../stack/private-dcmqrscp.ts';
import { readDicomProxyConfig } from './config.ts';
import { startDicomProxyService, type DicomProxyService } from './dicom-proxy-service.ts';
import type { DicomJsonDataset } from './dicom-json.ts';
import { Part10Instance } from './part10-instance.ts';

/**
 * A PACS that only speaks classic DICOM, configured through DICOM_SOURCES like any other: the
 * viewer's DICOMweb requests become C-FIND and C-GET, and the Japanese name survives.
 */

const SECRET = 'dimse-front-secret-dimse-front-secret-01';
const PATIENT_NAME = '00100010';

describe('DICOMweb front over a DIMSE source', () => {
  let work: string;
  let archive: PrivateDcmqrscp;
  let series: TestSeries;
  let service: DicomProxyService;
  let token: string;
  let base: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dimse-front-test-'));
    archive = await startTestDcmqrscp();
    series = await writeTestSeries({
      dir: join(work, 'series'),
      modality: 'CT',
      slices: 4,
      rows: 64,
      columns: 64,
      patientName: 'Yamada^Taro=山田^太郎=やまだ^たろう',
      patientId: 'DIMSE-1',
      characterSet: 'ISO 2022 IR 87',
      seed: 'dimse-front-test',
    });
    await archive.load(series.instances.map((instance) => instance.path));
    const config = readDicomProxyConfig({
      DICOM_PROXY_PORT: '0',
      LOG_LEVEL: 'silent',
      DICOM_SOURCES: JSON.stringify([
        {
          id: 'old-pacs',
          kind: 'dimse',
          host: archive.host,
          port: archive.port,
          calledAet: archive.aet,
          callingAet: 'TELEMED',
          retrieveMethod: 'c-get',
          maxAssociations: 2,
        },
      ]),
      DICOM_CACHE_DIR: join(work, 'cache'),
      AUTH_SECRET: SECRET,
    });
    service = await startDicomProxyService(config, pino({ level: 'silent' }));
    base = `http://127.0.0.1:${service.port}/dicom-web`;
    token = await mintAccessToken(
      {
        sub: 'acct-1',
        name: 'Reader',
        siteId: 'site-1',
        roles: ['specialist'],
        imaging: {
          sessionId: '6f1c2b9e-4a0d-4c1e-9d7a-2b8e5f3c1a01',
          studies: [{ studyInstanceUid: series.studyInstanceUid, deidentify: false }],
          mayQuerySources: false,
        },
      },
      { secret: SECRET, audience: 'dicom-proxy', ttlSeconds: 600 },
    );
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await archive?.stop();
    await rm(work, { recursive: true, force: true });
  });

  const get = (path: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });

  it('finds the study by C-FIND with the Japanese name decoded', async () => {
    const response = await get(`/studies?StudyInstanceUID=${series.studyInstanceUid}&includefield=PatientName`);
    expect(response.status).toBe(200);
    const [study] = (await response.json()) as DicomJsonDataset[];
    expect(study?.[PATIENT_NAME]?.Value?.[0]).toMatchObject({ Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' });
  });

  it('serves the series metadata and the pixel data retrieved by C-GET, byte for byte', async () => {
    const path = `/studies/${series.studyInstanceUid}/series/${series.seriesInstanceUid}`;
    const metadata = await get(`${path}/metadata`);
    expect(metadata.status).toBe(200);
    expect(((await metadata.json()) as unknown[]).length).toBe(4);
    const [first] = series.instances;
    const frame = await get(`${path}/instances/${first!.sopInstanceUid}/frames/1`);
    expect(frame.status).toBe(200);
    const body = Buffer.from(await frame.arrayBuffer());
    const original = Part10Instance.parse(await readFile(first!.path)).frame(1).bytes;
    expect(body.includes(Buffer.from(original))).toBe(true);
  });
});
