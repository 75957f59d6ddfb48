import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import jpeg from 'jpeg-js';
import { pino } from 'pino';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintAccessToken } from '@telemed/contract/access-token';
import { writeTestSeries, type TestSeries } from '../../stack/dicom-test-series.ts';
import { startTestOrthanc, type PrivateOrthanc } from '../../stack/private-orthanc.ts';
import { readDicomProxyConfig } from './config.ts';
import { startDicomProxyService, type DicomProxyService } from './dicom-proxy-service.ts';
import type { DicomJsonDataset } from './dicom-json.ts';
import { frameTransferSyntax, fuzzyPersonName, renderedMediaType } from './dicomweb-front.ts';
import { decodeFrame } from './frame-transcoding.ts';
import { multipartBoundary, readMultipartRelated } from './multipart-related-reader.ts';
import { Part10Instance } from './part10-instance.ts';

const TEST_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const CHARSET_FILES = '/usr/lib/python3/dist-packages/pydicom/data/charset_files';
const SECRET = 'front-test-secret-front-test-secret-0123';

// UIDs of the pydicom files used (read once from the files themselves).
const files = {
  rle2frame: join(TEST_FILES, 'SC_rgb_rle_2frame.dcm'),
  jpeg2000: join(TEST_FILES, 'JPEG2000.dcm'),
  // Same study and series as rle2frame: JPEG baseline stored as YBR_FULL.
  ybrJpeg: join(TEST_FILES, 'SC_rgb_jpeg_dcmtk.dcm'),
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
let ybr: Part10Instance;
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
    found.push({ headers: part.headers, bytes: Buffer.concat(part.bytes.chunks) });
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
  [rle, j2k, h32, h31, ybr] = await Promise.all([
    uidsOf(files.rle2frame),
    uidsOf(files.jpeg2000),
    uidsOf(files.chrH32),
    uidsOf(files.chrH31),
    uidsOf(files.ybrJpeg),
  ]);
  await orthanc.storeFiles([...series.instances.map((i) => i.path), ...Object.values(files)]);
  const config = readDicomProxyConfig({
    DICOM_PROXY_PORT: '0',
    // Audit records are tested with a real Redis in image-audit.test.ts and the imaging e2e.
    DICOM_AUDIT: 'off',
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

  it('lets a sharer find studies not shared yet, with their identity, but not read their images', async () => {
    const sharer = await mintAccessToken(
      {
        sub: 'acct-2',
        name: 'Coordinator',
        siteId: 'site-1',
        roles: ['coordinator'],
        imaging: { sessionId: '6f1c2b9e-4a0d-4c1e-9d7a-2b8e5f3c1a00', studies: [], mayQuerySources: true },
      },
      { secret: SECRET, audience: 'dicom-proxy', ttlSeconds: 600 },
    );
    const response = await get(`/dicom-web/studies?StudyInstanceUID=${h31.studyInstanceUid}`, undefined, sharer);
    expect(response.status).toBe(200);
    const [found] = (await response.json()) as DicomJsonDataset[];
    expect(found?.['0020000D']?.Value?.[0]).toBe(h31.studyInstanceUid);
    expect(found?.['00100020']?.Value?.[0]).toBe(h31.dataSet.string('x00100020'));
    // Fuzzy matching: the words typed, in order, anywhere in the name. (Orthanc 1.10's DICOMweb
    // matches only ASCII query values; kanji and kana reach PACS through DIMSE, in ISO_IR 192.)
    for (const typed of ['yamada', 'YAMADA taro', 'taro']) {
      const query = new URLSearchParams({ PatientName: typed, fuzzymatching: 'true' });
      const byName = await get(`/dicom-web/studies?${query}`, undefined, sharer);
      expect(byName.status, typed).toBe(200);
      const names = ((await byName.json()) as DicomJsonDataset[]).map((study) => study['00100010']?.Value?.[0]);
      expect(names).toContainEqual({ Alphabetic: 'Yamada^Taro', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' });
    }
    const exact = await get(`/dicom-web/studies?PatientName=yamada`, undefined, sharer);
    expect(exact.status).toBe(204);
    // Finding is not reading: the images wait until the study is shared.
    expect((await get(`/dicom-web/studies/${h31.studyInstanceUid}/series`, undefined, sharer)).status).toBe(403);
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

  it('sends compressed frames as stored when accepted, 406 for a syntax it cannot produce', async () => {
    const path = `${seriesPath(rle)}/instances/${rle.sopInstanceUid}/frames/2,1`;
    const response = await get(path, 'multipart/related; type="application/octet-stream"; transfer-syntax=*');
    const frames = await parts(response);
    expect(frames.map((f) => f.bytes.length)).toEqual([rle.frame(2).bytes.length, rle.frame(1).bytes.length]);
    expect(frames[0]?.headers['content-type']).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.5');
    expect(Buffer.compare(frames[1]?.bytes ?? Buffer.alloc(0), Buffer.from(rle.frame(1).bytes))).toBe(0);
    const refused = await get(
      path,
      'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.4.80',
    );
    expect(refused.status).toBe(406);
    expect((await refused.json()) as unknown).toMatchObject({ error: { code: 'not_acceptable' } });
    const j2kPath = `${seriesPath(j2k)}/instances/${j2k.sopInstanceUid}/frames/1`;
    const accepted = await get(
      j2kPath,
      `multipart/related; type="application/octet-stream"; transfer-syntax=${j2k.transferSyntaxUid}`,
    );
    expect((await parts(accepted))[0]?.bytes.length).toBe(j2k.frame(1).bytes.length);
    expect((await get(`${seriesPath(rle)}/instances/${rle.sopInstanceUid}/frames/3`)).status).toBe(404);
  });

  it('decodes compressed frames for a client that takes only explicit VR little endian', async () => {
    const octets = 'multipart/related; type="application/octet-stream"';
    // JPEG 2000 (lossy, 16-bit 256×1024) asked for uncompressed.
    const j2kFrame = await get(
      `${seriesPath(j2k)}/instances/${j2k.sopInstanceUid}/frames/1`,
      `${octets}; transfer-syntax=1.2.840.10008.1.2.4.80, ${octets}; transfer-syntax=1.2.840.10008.1.2.1`,
    );
    expect(j2kFrame.status, await j2kFrame.clone().text()).toBe(200);
    const [decoded] = await parts(j2kFrame);
    expect(decoded?.headers['content-type']).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
    expect(decoded?.bytes.length).toBe(1024 * 256 * 2);
    expect(Buffer.compare(decoded?.bytes ?? Buffer.alloc(0), Buffer.from((await decodeFrame(j2k, 1)).bytes))).toBe(0);
    // RLE, two RGB frames; octet-stream without transfer-syntax means explicit VR little endian.
    const rleFrames = await parts(await get(`${seriesPath(rle)}/instances/${rle.sopInstanceUid}/frames/2,1`, octets));
    expect(rleFrames.map((frame) => frame.bytes.length)).toEqual([100 * 100 * 3, 100 * 100 * 3]);
    expect(rleFrames[0]?.headers['content-type']).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
    expect(Buffer.compare(rleFrames[1]?.bytes ?? Buffer.alloc(0), Buffer.from((await decodeFrame(rle, 1)).bytes))).toBe(
      0,
    );
    // YBR_FULL JPEG decodes to RGB, which the metadata (YBR_FULL) would misdescribe: not offered.
    const ybrFrame = await get(`${seriesPath(ybr)}/instances/${ybr.sopInstanceUid}/frames/1`, octets);
    expect(ybrFrame.status).toBe(406);
    expect(((await ybrFrame.json()) as { error: { message: string } }).error.message).toContain('YBR_FULL');
  });

  it('renders an instance as JPEG by default and PNG when asked, windowed and scaled to the viewport', async () => {
    const instance = series.instances[1];
    const path = `${seriesPath(series)}/instances/${instance?.sopInstanceUid}/rendered`;
    const response = await get(path);
    expect(response.status, await response.clone().text()).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    expect(response.headers.get('cache-control')).toMatch(/^private/);
    const image = jpeg.decode(Buffer.from(await response.arrayBuffer()), { useTArray: true });
    expect([image.width, image.height]).toEqual([64, 64]);
    const fitted = await get(`${path}?viewport=32,16&quality=60`, '*/*');
    const small = jpeg.decode(Buffer.from(await fitted.arrayBuffer()), { useTArray: true });
    expect([small.width, small.height]).toEqual([16, 16]);
    const png = async (query: string) => {
      const answer = await get(`${path}${query}`, 'image/png');
      expect(answer.headers.get('content-type')).toBe('image/png');
      return PNG.sync.read(Buffer.from(await answer.arrayBuffer()));
    };
    const own = await png('');
    expect([own.width, own.height]).toEqual([64, 64]);
    const narrow = await png('?window=40,80,linear');
    expect(Buffer.compare(own.data, narrow.data)).not.toBe(0);
    expect(Buffer.compare((await png('?window=40,80,sigmoid')).data, narrow.data)).not.toBe(0);
    // The `accept` query parameter stands for the header.
    expect((await get(`${path}?accept=image/png`)).headers.get('content-type')).toBe('image/png');
  });

  it('answers 406 for image types not offered, 400 for bad parameters, 404 for a missing frame', async () => {
    const instancePath = `${seriesPath(series)}/instances/${series.instances[0]?.sopInstanceUid}`;
    const gif = await get(`${instancePath}/rendered`, 'image/gif');
    expect(gif.status).toBe(406);
    expect((await gif.json()) as unknown).toMatchObject({ error: { code: 'not_acceptable' } });
    expect((await get(`${instancePath}/thumbnail`, 'image/gif')).status).toBe(406);
    for (const query of ['window=40', 'window=40,0', 'viewport=0,0', 'quality=200', 'zoom=2']) {
      const bad = await get(`${instancePath}/rendered?${query}`);
      expect(bad.status, query).toBe(400);
      expect((await bad.json()) as unknown).toMatchObject({ error: { code: 'bad_request' } });
    }
    expect((await get(`${instancePath}/thumbnail?window=40,400`)).status).toBe(400);
    expect((await get(`${instancePath}/rendered?viewport=10,10,500,500,10,10`)).status).toBe(400);
    const rlePath = `${seriesPath(rle)}/instances/${rle.sopInstanceUid}`;
    const missing = await get(`${rlePath}/frames/3/rendered`);
    expect(missing.status).toBe(404);
    expect((await missing.json()) as unknown).toMatchObject({ error: { code: 'not_found' } });
    expect((await get(`${rlePath}/frames/3/thumbnail`)).status).toBe(404);
  });

  it('renders frames of a compressed multi-frame instance, one image or multipart', async () => {
    const rlePath = `${seriesPath(rle)}/instances/${rle.sopInstanceUid}`;
    const second = await get(`${rlePath}/frames/2/rendered`, 'image/png');
    const image = PNG.sync.read(Buffer.from(await second.arrayBuffer()));
    // Frame 2 is frame 1 inverted: its top band is cyan.
    expect([...image.data.subarray((5 * 100 + 50) * 4, (5 * 100 + 50) * 4 + 3)]).toEqual([0, 255, 255]);
    const both = await get(`${rlePath}/frames/1,2/rendered`, 'multipart/related; type="image/jpeg"');
    expect(both.headers.get('content-type')).toMatch(/^multipart\/related; type="image\/jpeg"/);
    const frames = await parts(both);
    expect(frames.map((part) => part.headers['content-type'])).toEqual(['image/jpeg', 'image/jpeg']);
    expect(frames[1]?.headers['content-location']).toMatch(/\/frames\/2\/rendered$/);
    const j2kImage = await get(`${seriesPath(j2k)}/instances/${j2k.sopInstanceUid}/rendered?viewport=128,128`);
    const fitted = jpeg.decode(Buffer.from(await j2kImage.arrayBuffer()), { useTArray: true });
    expect([fitted.width, fitted.height]).toEqual([32, 128]);
  });

  it('renders a series as multipart, one image per instance', async () => {
    const response = await get(`${seriesPath(series)}/rendered?viewport=32,32`);
    expect(response.status).toBe(200);
    const images = await parts(response);
    expect(images).toHaveLength(3);
    for (const image of images) {
      expect(image.headers['content-type']).toBe('image/jpeg');
      const decoded = jpeg.decode(image.bytes, { useTArray: true });
      expect([decoded.width, decoded.height]).toEqual([32, 32]);
    }
  });

  it('makes thumbnails: the middle instance of a series, the first series of a study', async () => {
    const middle = series.instances.find((instance) => instance.instanceNumber === 2);
    const ofInstance = await get(`${seriesPath(series)}/instances/${middle?.sopInstanceUid}/thumbnail`);
    expect(ofInstance.status).toBe(200);
    expect(ofInstance.headers.get('content-type')).toBe('image/jpeg');
    const instanceBytes = Buffer.from(await ofInstance.arrayBuffer());
    const thumbnail = jpeg.decode(instanceBytes, { useTArray: true });
    expect([thumbnail.width, thumbnail.height]).toEqual([128, 128]);
    const ofSeries = Buffer.from(await (await get(`${seriesPath(series)}/thumbnail`)).arrayBuffer());
    expect(Buffer.compare(ofSeries, instanceBytes)).toBe(0);
    const ofStudy = Buffer.from(
      await (await get(`/dicom-web/studies/${series.studyInstanceUid}/thumbnail`)).arrayBuffer(),
    );
    expect(Buffer.compare(ofStudy, instanceBytes)).toBe(0);
    const small = await get(`${seriesPath(series)}/thumbnail?viewport=40,20`, 'image/png');
    expect(small.headers.get('content-type')).toBe('image/png');
    const png = PNG.sync.read(Buffer.from(await small.arrayBuffer()));
    expect([png.width, png.height]).toEqual([20, 20]);
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
  it('matches person names fuzzily as words in order, leaving explicit wildcards alone', () => {
    expect(fuzzyPersonName('山田　太郎')).toBe('*山田*太郎*');
    expect(fuzzyPersonName('Yamada^Taro')).toBe('*Yamada*Taro*');
    expect(fuzzyPersonName('Yama*')).toBe('Yama*');
  });

  it('negotiates like PS3.18 §8.7.3.5', () => {
    const octets = (ts: string) => `multipart/related; type="application/octet-stream"; transfer-syntax=${ts}`;
    expect(frameTransferSyntax(undefined, '1.2.840.10008.1.2.4.50')).toBe('1.2.840.10008.1.2.4.50');
    expect(frameTransferSyntax(octets('*'), '1.2.840.10008.1.2.4.50')).toBe('1.2.840.10008.1.2.4.50');
    expect(frameTransferSyntax('multipart/related; type="application/octet-stream"', '1.2.840.10008.1.2.1')).toBe(
      '1.2.840.10008.1.2.1',
    );
    // Decodable compressed frames are offered uncompressed; JPEG extended (4.51) is not decodable here.
    expect(frameTransferSyntax(octets('1.2.840.10008.1.2.1'), '1.2.840.10008.1.2.4.50')).toBe('1.2.840.10008.1.2.1');
    expect(frameTransferSyntax('multipart/related; type="application/octet-stream"', '1.2.840.10008.1.2.5')).toBe(
      '1.2.840.10008.1.2.1',
    );
    expect(() => frameTransferSyntax(octets('1.2.840.10008.1.2.1'), '1.2.840.10008.1.2.4.51')).toThrow('stored as');
    expect(() => frameTransferSyntax(octets('1.2.840.10008.1.2.4.80'), '1.2.840.10008.1.2.4.90')).toThrow('stored as');
    expect(
      frameTransferSyntax(`${octets('1.2.840.10008.1.2.4.80')}, ${octets('1.2.840.10008.1.2')}`, '1.2.840.10008.1.2.1'),
    ).toBe('1.2.840.10008.1.2');
  });
});

describe('renderedMediaType', () => {
  it('offers JPEG by default and PNG when preferred, multipart only for several images', () => {
    expect(renderedMediaType(undefined, false)).toBe('image/jpeg');
    expect(renderedMediaType('*/*', false)).toBe('image/jpeg');
    expect(renderedMediaType('image/*', false)).toBe('image/jpeg');
    expect(renderedMediaType('image/webp, image/png', false)).toBe('image/png');
    expect(renderedMediaType('multipart/related; type="image/png"', true)).toBe('image/png');
    expect(renderedMediaType('image/png', true)).toBe('image/png');
    expect(() => renderedMediaType('multipart/related; type="image/png"', false)).toThrow('rendered images');
    expect(() => renderedMediaType('image/gif', false)).toThrow('rendered images');
    expect(() => renderedMediaType('multipart/related; type="image/gif"', true)).toThrow('rendered images');
  });
});
