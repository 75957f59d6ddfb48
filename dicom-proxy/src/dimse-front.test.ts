import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintAccessToken } from '@telemed/contract/access-token';
import { writeTestSeries, type TestSeries } from '../../stack/dicom-test-series.ts';
import { freeTcpPort } from '../../stack/free-port.ts';
import { startTestDcmqrscp, type PrivateDcmqrscp } from '../../stack/private-dcmqrscp.ts';
import { startTestOrthanc, type PrivateOrthanc } from '../../stack/private-orthanc.ts';
import { readDicomProxyConfig } from './config.ts';
import { startDicomProxyService, type DicomProxyService } from './dicom-proxy-service.ts';
import type { DicomJsonDataset } from './dicom-json.ts';
import { multipartBoundary, readMultipartRelated } from './multipart-related-reader.ts';
import { Part10Instance } from './part10-instance.ts';

/**
 * A PACS that only speaks classic DICOM, configured through DICOM_SOURCES like any other: the
 * viewer's DICOMweb requests become C-FIND and C-GET or C-MOVE (to the source's own storage SCP),
 * against a real dcmqrscp and a real Orthanc DICOM port, and what the viewer gets is what the
 * PACS holds, byte for byte, the Japanese name included.
 */

const SECRET = 'dimse-front-secret-dimse-front-secret-01';
const PATIENT_NAME = '00100010';
const SCP_AET = 'TELEMED_SCP';

/** The data set after the file meta (preamble, `DICM`, then group 0002 led by its length). */
function dataSet(part10: Buffer): Buffer {
  return part10.subarray(144 + part10.readUInt32LE(140));
}

let work: string;
let series: TestSeries;
let token: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dimse-front-test-'));
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
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** The proxy with one DIMSE source; `get` sends the reader's token. */
async function startFront(name: string, source: Record<string, unknown>) {
  const config = readDicomProxyConfig({
    DICOM_PROXY_PORT: '0',
    // Audit records are tested with a real Redis in image-audit.test.ts and the imaging e2e.
    DICOM_AUDIT: 'off',
    LOG_LEVEL: 'silent',
    DICOM_SOURCES: JSON.stringify([{ id: 'old-pacs', kind: 'dimse', maxAssociations: 2, ...source }]),
    DICOM_CACHE_DIR: join(work, `cache-${name}`),
    AUTH_SECRET: SECRET,
  });
  const service = await startDicomProxyService(config, pino({ level: 'silent' }));
  const base = `http://127.0.0.1:${service.port}/dicom-web`;
  const get = (path: string, accept?: string) =>
    fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) } });
  return { service, get };
}

type Get = Awaited<ReturnType<typeof startFront>>['get'];

/** WADO-RS of the whole series: every part the PACS's data set exactly, the name decoded from ISO 2022. */
async function expectSeriesRetrieve(get: Get): Promise<void> {
  const response = await get(
    `/studies/${series.studyInstanceUid}/series/${series.seriesInstanceUid}`,
    'multipart/related; type="application/dicom"',
  );
  expect(response.status).toBe(200);
  const boundary = multipartBoundary(response.headers.get('content-type'));
  expect(boundary).toBeTruthy();
  const parts = new Map<string, Buffer>();
  for await (const part of readMultipartRelated(response.body!, boundary!, { maxPartBytes: 16 * 1024 * 1024 })) {
    const bytes = Buffer.concat(part.bytes.chunks);
    const instance = Part10Instance.parse(bytes);
    const json = instance.toDicomJson({ instanceUrl: '' });
    parts.set(String(json['00080018']!.Value![0]), bytes);
    expect(json[PATIENT_NAME]!.Value![0]).toMatchObject({ Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' });
  }
  expect([...parts.keys()].sort()).toEqual(series.instances.map((instance) => instance.sopInstanceUid).sort());
  for (const instance of series.instances) {
    const original = await readFile(instance.path);
    const served = parts.get(instance.sopInstanceUid)!;
    expect(dataSet(served).equals(dataSet(original))).toBe(true);
    expect(Buffer.from(Part10Instance.parse(served).frame(1).bytes)).toEqual(
      Buffer.from(Part10Instance.parse(original).frame(1).bytes),
    );
  }
}

describe('DICOMweb front over a DIMSE source by C-GET (dcmqrscp)', () => {
  let archive: PrivateDcmqrscp;
  let service: DicomProxyService;
  let get: Get;

  beforeAll(async () => {
    archive = await startTestDcmqrscp();
    await archive.load(series.instances.map((instance) => instance.path));
    ({ service, get } = await startFront('c-get', {
      host: archive.host,
      port: archive.port,
      calledAet: archive.aet,
      callingAet: 'TELEMED',
      retrieveMethod: 'c-get',
    }));
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await archive?.stop();
  });

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

  it('serves the series by WADO-RS, every data set as the PACS holds it', async () => {
    await expectSeriesRetrieve(get);
  });
});

describe('DICOMweb front over a DIMSE source by C-MOVE (dcmqrscp)', () => {
  let archive: PrivateDcmqrscp;
  let service: DicomProxyService;
  let get: Get;

  beforeAll(async () => {
    const scpPort = await freeTcpPort();
    archive = await startTestDcmqrscp({ peers: [{ aet: SCP_AET, host: '127.0.0.1', port: scpPort }] });
    await archive.load(series.instances.map((instance) => instance.path));
    ({ service, get } = await startFront('c-move-dcmqrscp', {
      host: archive.host,
      port: archive.port,
      calledAet: archive.aet,
      callingAet: 'TELEMED',
      retrieveMethod: 'c-move',
      moveDestinationAet: SCP_AET,
      storageScpPort: scpPort,
      storageScpHost: '127.0.0.1',
    }));
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await archive?.stop();
  });

  it('serves the series by WADO-RS, every data set as the PACS holds it, then from the cache', async () => {
    await expectSeriesRetrieve(get);
    // The PACS gone, the series read whole before is still served (from the cache).
    await archive.stop();
    await expectSeriesRetrieve(get);
  });
});

describe('DICOMweb front over a DIMSE source by C-MOVE (Orthanc)', () => {
  let orthanc: PrivateOrthanc;
  let service: DicomProxyService;
  let get: Get;

  beforeAll(async () => {
    const scpPort = await freeTcpPort();
    orthanc = await startTestOrthanc({ modalities: { proxy: { aet: SCP_AET, host: '127.0.0.1', port: scpPort } } });
    await orthanc.storeFiles(series.instances.map((instance) => instance.path));
    ({ service, get } = await startFront('c-move-orthanc', {
      host: '127.0.0.1',
      port: orthanc.dicomPort,
      calledAet: orthanc.aet,
      // Orthanc answers C-FIND / C-MOVE only to AEs it knows: the proxy's modality.
      callingAet: SCP_AET,
      retrieveMethod: 'c-move',
      moveDestinationAet: SCP_AET,
      storageScpPort: scpPort,
      storageScpHost: '127.0.0.1',
    }));
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await orthanc?.stop();
  });

  it('finds the study and serves the series by WADO-RS, every data set as the PACS holds it', async () => {
    const found = await get(`/studies?StudyInstanceUID=${series.studyInstanceUid}&includefield=PatientName`);
    expect(found.status).toBe(200);
    await expectSeriesRetrieve(get);
    const path = `/studies/${series.studyInstanceUid}/series/${series.seriesInstanceUid}`;
    const frame = await get(`${path}/instances/${series.instances[1]!.sopInstanceUid}/frames/1`);
    expect(frame.status).toBe(200);
    const original = Part10Instance.parse(await readFile(series.instances[1]!.path)).frame(1).bytes;
    expect(Buffer.from(await frame.arrayBuffer()).includes(Buffer.from(original))).toBe(true);
  });
});
