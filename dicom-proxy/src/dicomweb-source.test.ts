import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTestSeries, type TestSeries } from '../../stack/dicom-test-series.ts';
import { startTestOrthanc, type PrivateOrthanc } from '../../stack/private-orthanc.ts';
import { freeTcpPort } from '../../stack/free-port.ts';
import { createDicomWebSource } from './dicomweb-source.ts';
import { SourceError, type StudyQuery, type StudySource } from './study-source.ts';

const TEST_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
// Different transfer syntaxes: explicit little, implicit, big endian, RLE, JPEG baseline, JPEG 2000, deflated.
const pydicomFiles = [
  'CT_small.dcm',
  'MR_small_implicit.dcm',
  'MR_small_bigendian.dcm',
  'MR_small_RLE.dcm',
  'SC_rgb_jpeg_dcmtk.dcm',
  'JPEG2000.dcm',
  'image_dfl.dcm',
].map((name) => join(TEST_FILES, name));

const query = (overrides: Partial<StudyQuery>): StudyQuery => ({
  level: 'study',
  match: {},
  includeFields: [],
  fuzzyMatching: false,
  limit: 100,
  offset: 0,
  ...overrides,
});

async function collect(source: StudySource, scope: Parameters<StudySource['retrieve']>[0]) {
  const files = [];
  for await (const file of source.retrieve(scope)) files.push({ ...file, bytes: await buffer(file.body) });
  return files;
}

describe('DICOMweb source against Orthanc', () => {
  let orthanc: PrivateOrthanc;
  let dir: string;
  let series: TestSeries;
  let source: StudySource;
  const uidsByFile = new Map<string, { study: string; series: string; sop: string; stored: Buffer }>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'telemed-dicomweb-'));
    orthanc = await startTestOrthanc();
    series = await writeTestSeries({
      dir,
      modality: 'CT',
      slices: 20,
      rows: 256,
      columns: 256,
      patientName: 'Yamada^Taro=山田^太郎=やまだ^たろう',
      patientId: 'DW-1',
      characterSet: 'ISO_IR 192',
      seed: 'dicomweb-source',
    });
    await orthanc.storeFiles(series.instances.map((instance) => instance.path));
    const stored = await orthanc.storeFiles(pydicomFiles);
    for (const [index, path] of pydicomFiles.entries()) {
      const tags = (await (
        await fetch(`${orthanc.httpUrl}/instances/${stored[index]!.ID}/simplified-tags`)
      ).json()) as Record<string, string>;
      // What Orthanc keeps (it may rewrite a file's meta header on store) is what the source must pass on unchanged.
      const storedFile = Buffer.from(
        await (await fetch(`${orthanc.httpUrl}/instances/${stored[index]!.ID}/file`)).arrayBuffer(),
      );
      uidsByFile.set(path, {
        stored: storedFile,
        study: tags.StudyInstanceUID!,
        series: tags.SeriesInstanceUID!,
        sop: tags.SOPInstanceUID!,
      });
    }
    source = createDicomWebSource({ id: 'test-pacs', url: orthanc.dicomWebUrl, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await orthanc?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers echo', async () => {
    await expect(source.echo()).resolves.toBeUndefined();
  });

  it('searches studies with Unicode-correct Japanese names', async () => {
    const studies = await source.search(query({ match: { PatientID: 'DW-1' }, includeFields: ['StudyDescription'] }));
    expect(studies).toHaveLength(1);
    expect(studies[0]?.['00100010']?.Value?.[0]).toEqual({
      Alphabetic: 'Yamada^Taro',
      Ideographic: '山田^太郎',
      Phonetic: 'やまだ^たろう',
    });
    expect(studies[0]?.['00081030']?.Value?.[0]).toBe('胸部単純CT');
    const byName = await source.search(query({ match: { PatientName: 'Yamada*' } }));
    expect(byName.map((study) => study['0020000D']?.Value?.[0])).toEqual([series.studyInstanceUid]);
  });

  it('searches series and instances within a study, with limit and offset', async () => {
    const found = await source.search(query({ level: 'series', studyInstanceUid: series.studyInstanceUid }));
    expect(found.map((s) => s['0020000E']?.Value?.[0])).toEqual([series.seriesInstanceUid]);
    const instances = await source.search(
      query({
        level: 'instance',
        studyInstanceUid: series.studyInstanceUid,
        seriesInstanceUid: series.seriesInstanceUid,
        limit: 5,
        offset: 5,
      }),
    );
    expect(instances).toHaveLength(5);
    const none = await source.search(query({ match: { PatientID: 'nobody' } }));
    expect(none).toEqual([]);
  });

  it('retrieves a series, byte-identical to what was stored', async () => {
    const files = await collect(source, {
      studyInstanceUid: series.studyInstanceUid,
      seriesInstanceUid: series.seriesInstanceUid,
    });
    expect(files).toHaveLength(20);
    for (const file of files) {
      const instance = series.instances.find((i) => i.sopInstanceUid === file.sopInstanceUid)!;
      expect(file.seriesInstanceUid).toBe(series.seriesInstanceUid);
      expect(file.studyInstanceUid).toBe(series.studyInstanceUid);
      expect(file.bytes.equals(await readFile(instance.path))).toBe(true);
    }
  });

  it('retrieves files of several transfer syntaxes byte-identical to what Orthanc stored, by study and by instance', async () => {
    for (const path of pydicomFiles) {
      const uids = uidsByFile.get(path)!;
      const original = uids.stored;
      const [single] = await collect(source, {
        studyInstanceUid: uids.study,
        seriesInstanceUid: uids.series,
        sopInstanceUid: uids.sop,
      });
      expect(single?.sopInstanceUid, path).toBe(uids.sop);
      const whole = await collect(source, { studyInstanceUid: uids.study });
      expect(
        whole.map((file) => file.sopInstanceUid),
        path,
      ).toContain(uids.sop);
      expect(single?.bytes.equals(original), path).toBe(true);
      expect(whole.find((file) => file.sopInstanceUid === uids.sop)?.bytes.equals(original), path).toBe(true);
    }
  });

  it('yields the first instance before the rest and lets the consumer stop early', async () => {
    let seen = 0;
    for await (const file of source.retrieve({ studyInstanceUid: series.studyInstanceUid })) {
      file.body.destroy();
      if (++seen === 2) break;
    }
    expect(seen).toBe(2);
    await expect(source.echo()).resolves.toBeUndefined();
  });

  it('maps a missing study to not-found and a stopped PACS to unavailable', async () => {
    const missing = collect(source, { studyInstanceUid: '1.2.3.4.5.6.7.8.9' });
    await expect(missing).rejects.toMatchObject({ name: 'SourceError', kind: 'not-found', sourceId: 'test-pacs' });
    const nobody = createDicomWebSource({ id: 'gone', url: `http://127.0.0.1:${await freeTcpPort()}/dicom-web/` });
    await expect(nobody.echo()).rejects.toBeInstanceOf(SourceError);
    await expect(nobody.search(query({}))).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('refuses unvalidated UIDs and query keys before any request', async () => {
    await expect(collect(source, { studyInstanceUid: '../../system' })).rejects.toThrow();
    await expect(source.search(query({ match: { 'a/b': 'x' } }))).rejects.toThrow();
  });

  it('times out a PACS that stops answering, before the headers or in the middle of a body', async () => {
    // A real socket that accepts and then says nothing more (headers), or sends part of a multipart body and stalls.
    const stalled = createServer((request, response) => {
      if (request.url?.includes('/series/')) {
        response.writeHead(200, { 'content-type': 'multipart/related; type="application/dicom"; boundary=b' });
        response.write('--b\r\nContent-Type: application/dicom\r\n\r\nDICM');
      }
    });
    const port = await freeTcpPort();
    await new Promise<void>((resolve) => stalled.listen(port, '127.0.0.1', resolve));
    try {
      const slow = createDicomWebSource({
        id: 'slow-pacs',
        url: `http://127.0.0.1:${port}/dicom-web/`,
        timeoutMs: 300,
      });
      await expect(slow.search(query({}))).rejects.toMatchObject({ kind: 'timeout', sourceId: 'slow-pacs' });
      await expect(collect(slow, { studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4' })).rejects.toMatchObject({
        kind: 'timeout',
        sourceId: 'slow-pacs',
      });
      // The caller giving up is not the PACS's fault: its own reason comes back.
      const reason = new Error('viewer went away');
      const abandoned = slow.search(query({}), AbortSignal.abort(reason));
      await expect(abandoned).rejects.toBe(reason);
      await slow.close();
    } finally {
      stalled.closeAllConnections();
      await new Promise((resolve) => stalled.close(resolve));
    }
  });

  it('reports a stopped Orthanc as unavailable', async () => {
    await orthanc.stop();
    await expect(source.echo()).rejects.toMatchObject({ kind: 'unavailable' });
  });
});
