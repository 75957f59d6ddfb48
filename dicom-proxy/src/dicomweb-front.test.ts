import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintAccessToken } from '@telemed/contract/access-token';
import { writeTestSeries, type TestSeries } from '../../stack/dicom-test-series.ts';
import { startTestOrthanc, type PrivateOrthanc } from '../../stack/private-orthanc.ts';
import { readDicomProxyConfig } from './config.ts';
import { startDicomProxyService, type DicomProxyService } from './dicom-proxy-service.ts';
import type { DicomJsonDataset } from './dicom-json.ts';
import { frameTransferSyntax } from './dicomweb-front.ts';
import { multipartBoundary, readMultipartRelated } from './multipart-related-reader.ts';
import { Part10Instance } from './part10-instance.ts';

const TEST_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const CHARSET_FILES = '/usr/lib/python3/dist-packages/pydicom/data/charset_files';
const SECRET = 'front-test-secret-front-test-secret-0123';

// UIDs of the pydicom files used (read once from the files themselves).
const files = {
  rle2frame: join(TEST_FILES, 'SC_rgb_rle_2frame.dcm'),
  jpeg2000: join(TEST_FILES, 'JPEG2000.dcm'),
  chrH32: join(CHARSET_FILES, 'chrH32.dcm'),
  chrH31: join(CHARSET_FILES, 'chrH31.dcm'),
};

let orthanc: PrivateOrthanc;
let service: DicomProxyService;
let base: string;
let work: string;
let series: TestSeries;
let token: string;
const uidsOf = async (path: string) => {
  const { readFile } = await import('node:fs/promises');
  return Part10Instance.parse(await readFile(path));
};
let rle: Part10Instance;
let j2k: Part10Instance;
let h32: Part10Instance;
let h31: Part10Instance;

async function get(path: string, accept?: string, bearer: string | null = token) {
  const headers: Record<string, string> = {};
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (accept) headers.accept = accept;
  return fetch(`${base}${path}`, { headers });
}

async function parts(response: Response) {
  const boundary = multipartBoundary(response.headers.get('content-type'));
  if (!boundary || !response.body) throw new Error('not multipart');
  const found: { headers: Record<string, string>; bytes: Buffer }[] = [];
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  for await (const part of readMultipartRelated(body, boundary, { maxPartBytes: 50 * 1024 ** 2 })) {
    found.push({ headers: part.headers, bytes: Buffer.concat(part.chunks) });
  }
  return found;
}

function seriesPath(s: { studyInstanceUid: string; seriesInstanceUid: string }) {
  return `/dicom-web/studies/${s.studyInstanceUid}/series/${s.seriesInstanceUid}`;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'front-test-'));
  orthanc = await startTestOrthanc();
  series = await writeTestSeries({
    dir: join(work, 'series'),
    modality: 'CT',
    slices: 3,
    rows: 64,
    columns: 64,
    patientName: 'Yamada^Taro=山田^太郎=やまだ^たろう',
    patientId: 'FRONT-1',
    characterSet: 'ISO_IR 192',
    studyDescription: '胸部CT',
    seed: 'front-test',
  });
  [rle, j2k, h32, h31] = await Promise.all([
    uidsOf(files.rle2frame),
    uidsOf(files.jpeg2000),
    uidsOf(files.chrH32),
    uidsOf(files.chrH31),
  ]);
  await orthanc.storeFiles([...series.instances.map((i) => i.path), ...Object.values(files)]);
  const config = readDicomProxyConfig({
    DICOM_PROXY_PORT: '0',
    LOG_LEVEL: 'silent',
    DICOM_SOURCES: JSON.stringify([{ id: 'orthanc-a', kind: 'dicomweb', url: orthanc.dicomWebUrl }]),
    DICOM_CACHE_DIR: join(work, 'cache'),
    DICOM_UPSTREAM_TIMEOUT_MS: '5000',
    AUTH_SECRET: SECRET,
  });
  service = await startDicomProxyService(config, pino({ level: 'silent' }));
  base = `http://127.0.0.1:${service.port}`;
  // Everything but chrH31's study is shared.
  token = await mintAccessToken(
    {
      sub: 'acct-1',
      name: 'Reader',
      siteId: 'site-1',
      roles: ['physician'],
      imaging: {
        sessionId: '6f1c2b9e-4a0d-4c1e-9d7a-2b8e5f3c1a00',
        studies: [series.studyInstanceUid, rle.studyInstanceUid, j2k.studyInstanceUid, h32.studyInstanceUid].map(
          (studyInstanceUid) => ({ studyInstanceUid, deidentify: false }),
        ),
        mayQuerySources: false,
      },
    },
    { secret: SECRET, audience: 'dicom-proxy', ttlSeconds: 600 },
  );
}, 60_000);

afterAll(async () => {
  await service?.close();
  await orthanc?.stop().catch(() => undefined);
  await rm(work, { recursive: true, force: true });
});

describe('DICOMweb front against Orthanc', () => {
  it('reports the source in /healthz', async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', sources: [{ id: 'orthanc-a', ok: true }] });
  });

  it('answers 401 without a token, 400 for a bad UID, 403 for a study not shared, 404 for an unknown one', async () => {
    const missing = await get('/dicom-web/studies', undefined, null);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect((await missing.json()) as unknown).toMatchObject({ error: { code: 'token_missing' } });
    expect((await get('/dicom-web/studies', undefined, 'not.a.token')).status).toBe(401);
    const bad = await get('/dicom-web/studies/1.2.03/series');
    expect(bad.status).toBe(400);
    expect((await bad.json()) as unknown).toMatchObject({ error: { code: 'bad_request' } });
    expect((await get(`/dicom-web/studies/${h31.studyInstanceUid}/series`)).status).toBe(403);
    const unknownToken = await mintAccessToken(
      {
        sub: 'acct-1',
        name: 'Reader',
        siteId: 'site-1',
        roles: [],
        imaging: {
          sessionId: '6f1c2b9e-4a0d-4c1e-9d7a-2b8e5f3c1a00',
          studies: [{ studyInstanceUid: '1.2.3.999', deidentify: false }],
          mayQuerySources: false,
        },
      },
      { secret: SECRET, audience: 'dicom-proxy', ttlSeconds: 600 },
    );
    const unknown = await get('/dicom-web/studies/1.2.3.999/series', undefined, unknownToken);
    expect(unknown.status).toBe(404);
    expect((await get('/dicom-web/studies?PatientName=nobody', undefined)).status).toBe(204);
    expect((await get('/dicom-web/studies?bad-key=1')).status).toBe(400);
  });

  it('searches studies with Japanese names, only the shared ones', async () => {
    const response = await get('/dicom-web/studies?includefield=StudyDescription');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/dicom+json');
    const studies = (await response.json()) as DicomJsonDataset[];
    const uids = studies.map((study) => study['0020000D']?.Value?.[0]);
    expect(uids).toContain(series.studyInstanceUid);
    expect(uids).toContain(h32.studyInstanceUid);
    expect(uids).not.toContain(h31.studyInstanceUid);
    const ct = studies.find((study) => study['0020000D']?.Value?.[0] === series.studyInstanceUid);
    expect(ct?.['00100010']?.Value?.[0]).toEqual({
      Alphabetic: 'Yamada^Taro',
      Ideographic: '山田^太郎',
      Phonetic: 'やまだ^たろう',
    });
    // chrH32's name is not checked here: Orthanc's own QIDO JSON garbles `ISO 2022 IR 13\ISO 2022 IR 87`.
    const byName = (await (await get('/dicom-web/studies?PatientID=FRONT-1')).json()) as DicomJsonDataset[];
    expect(byName).toHaveLength(1);
  });

  it('searches series and instances of a study', async () => {
    const seriesList = (await (
      await get(`/dicom-web/studies/${series.studyInstanceUid}/series`)
    ).json()) as DicomJsonDataset[];
    expect(seriesList.map((s) => s['0020000E']?.Value?.[0])).toEqual([series.seriesInstanceUid]);
    const instances = (await (await get(`${seriesPath(series)}/instances`)).json()) as DicomJsonDataset[];
    expect(instances).toHaveLength(3);
    const all = (await (
      await get(`/dicom-web/studies/${series.studyInstanceUid}/instances?limit=2`)
    ).json()) as DicomJsonDataset[];
    expect(all).toHaveLength(2);
  });

  it('retrieves a series as multipart application/dicom', async () => {
    const response = await get(seriesPath(series), 'multipart/related; type="application/dicom"; transfer-syntax=*');
    expect(response.status, await response.clone().text()).toBe(200);
    const received = await parts(response);
    expect(received).toHaveLength(3);
    const uids = received.map((part) => Part10Instance.parse(part.bytes).sopInstanceUid).sort();
    expect(uids).toEqual(series.instances.map((i) => i.sopInstanceUid).sort());
    expect(received[0]?.headers['content-type']).toContain('application/dicom');
  });

  it('retrieves an ISO 2022 IR 87 instance (several character sets) and decodes its names', async () => {
    const response = await get(`${seriesPath(h32)}/instances/${h32.sopInstanceUid}`);
    expect(response.status, await response.clone().text()).toBe(200);
    const [part] = await parts(response);
    expect(Part10Instance.parse(part?.bytes ?? Buffer.alloc(0)).sopInstanceUid).toBe(h32.sopInstanceUid);
    const study = await parts(await get(`/dicom-web/studies/${h32.studyInstanceUid}`));
    expect(study).toHaveLength(1);
    const [metadata] = (await (await get(`${seriesPath(h32)}/metadata`)).json()) as DicomJsonDataset[];
    expect(metadata?.['00100010']?.Value?.[0]).toMatchObject({ Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' });
  });

  it('serves metadata with Unicode names and BulkDataURIs that resolve', async () => {
    const path = `${seriesPath(series)}/metadata`;
    const metadata = (await (await get(path)).json()) as DicomJsonDataset[];
    expect(metadata).toHaveLength(3);
    expect(metadata[0]?.['00100010']?.Value?.[0]).toEqual({
      Alphabetic: 'Yamada^Taro',
      Ideographic: '山田^太郎',
      Phonetic: 'やまだ^たろう',
    });
    expect(metadata[0]?.['00081030']?.Value).toEqual(['胸部CT']);
    const uri = metadata[0]?.['7FE00010']?.BulkDataURI;
    expect(uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dicom-web\/studies\/.+\/bulk\/7FE00010$/);
    const bulk = await fetch(uri ?? '', { headers: { authorization: `Bearer ${token}` } });
    const [pixels] = await parts(bulk);
    expect(pixels?.bytes.length).toBe(64 * 64 * 2);
  });

  it('sends uncompressed frames in the little endian syntax asked for', async () => {
    const instance = series.instances[0]?.sopInstanceUid;
    const path = `${seriesPath(series)}/instances/${instance}/frames/1`;
    const response = await get(
      path,
      'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2',
    );
    expect(response.status).toBe(200);
    const [frame] = await parts(response);
    expect(frame?.bytes.length).toBe(64 * 64 * 2);
    expect(frame?.headers['content-type']).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2');
  });

  it('sends compressed frames as stored when accepted, 406 otherwise', async () => {
    const path = `${seriesPath(rle)}/instances/${rle.sopInstanceUid}/frames/2,1`;
    const response = await get(path, 'multipart/related; type="application/octet-stream"; transfer-syntax=*');
    const frames = await parts(response);
    expect(frames.map((f) => f.bytes.length)).toEqual([rle.frame(2).bytes.length, rle.frame(1).bytes.length]);
    expect(frames[0]?.headers['content-type']).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.5');
    expect(Buffer.compare(frames[1]?.bytes ?? Buffer.alloc(0), Buffer.from(rle.frame(1).bytes))).toBe(0);
    const refused = await get(
      path,
      'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.1',
    );
    expect(refused.status).toBe(406);
    const j2kPath = `${seriesPath(j2k)}/instances/${j2k.sopInstanceUid}/frames/1`;
    const accepted = await get(
      j2kPath,
      `multipart/related; type="application/octet-stream"; transfer-syntax=${j2k.transferSyntaxUid}`,
    );
    expect((await parts(accepted))[0]?.bytes.length).toBe(j2k.frame(1).bytes.length);
    expect((await get(`${seriesPath(rle)}/instances/${rle.sopInstanceUid}/frames/3`)).status).toBe(404);
  });

  it('keeps serving cached series and frames with the PACS stopped, and names the source when it must ask', async () => {
    await orthanc.stop();
    const retrieved = await parts(await get(seriesPath(series)));
    expect(retrieved).toHaveLength(3);
    const frame = await get(
      `${seriesPath(rle)}/instances/${rle.sopInstanceUid}/frames/1`,
      'multipart/related; type="application/octet-stream"; transfer-syntax=*',
    );
    expect(frame.status).toBe(200);
    const metadata = await get(`${seriesPath(series)}/metadata`);
    expect(((await metadata.json()) as unknown[]).length).toBe(3);
    const search = await get('/dicom-web/studies');
    expect(search.status).toBe(502);
    expect((await search.json()) as unknown).toMatchObject({ error: { source: 'orthanc-a' } });
  });
});

describe('frameTransferSyntax', () => {
  it('negotiates like PS3.18 §8.7.3.5', () => {
    const octets = (ts: string) => `multipart/related; type="application/octet-stream"; transfer-syntax=${ts}`;
    expect(frameTransferSyntax(undefined, '1.2.840.10008.1.2.4.50')).toBe('1.2.840.10008.1.2.4.50');
    expect(frameTransferSyntax(octets('*'), '1.2.840.10008.1.2.4.50')).toBe('1.2.840.10008.1.2.4.50');
    expect(frameTransferSyntax('multipart/related; type="application/octet-stream"', '1.2.840.10008.1.2.1')).toBe(
      '1.2.840.10008.1.2.1',
    );
    expect(() => frameTransferSyntax(octets('1.2.840.10008.1.2.1'), '1.2.840.10008.1.2.4.50')).toThrow('stored as');
    expect(
      frameTransferSyntax(`${octets('1.2.840.10008.1.2.4.80')}, ${octets('1.2.840.10008.1.2')}`, '1.2.840.10008.1.2.1'),
    ).toBe('1.2.840.10008.1.2');
  });
});
