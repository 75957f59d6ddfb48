import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDcmqrscp, type PrivateDcmqrscp } from '../../stack/private-dcmqrscp.ts';
import { writeTestSeries, type TestSeries } from '../../stack/dicom-test-series.ts';
import { freeTcpPort } from '../../stack/free-port.ts';
import { Part10Instance } from './part10-instance.ts';
import { DimseSource, findIdentifier, type DimseSourceConfig } from './dimse-source.ts';
import { SourceError, type InstanceFile, type StudyQuery } from './study-source.ts';

const testFiles = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const japaneseName = 'Yamada^Tarou=山田^太郎=やまだ^たろう';

async function readBody(file: InstanceFile): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of file.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function query(level: StudyQuery['level'], extra: Partial<StudyQuery> = {}): StudyQuery {
  return { level, match: {}, includeFields: [], fuzzyMatching: false, limit: 100, offset: 0, ...extra };
}

function pixelData(bytes: Buffer): Buffer {
  const instance = Part10Instance.parse(bytes);
  return Buffer.from(instance.frame(1).bytes);
}

/** The data set after the file meta (preamble, `DICM`, then group 0002 led by its length): what the PACS sent. */
function dataSet(part10: Buffer): Buffer {
  return part10.subarray(144 + part10.readUInt32LE(140));
}

describe('DimseSource against dcmqrscp', () => {
  let archive: PrivateDcmqrscp;
  let dir: string;
  let series: TestSeries;
  let config: DimseSourceConfig;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'telemed-dimse-test-'));
    archive = await startTestDcmqrscp();
    series = await writeTestSeries({
      dir: join(dir, 'series'),
      modality: 'CT',
      slices: 6,
      rows: 64,
      columns: 64,
      patientName: japaneseName,
      patientId: 'JP-87',
      characterSet: 'ISO 2022 IR 87',
      seed: 'dimse-source-test',
    });
    await archive.load([...series.instances.map((instance) => instance.path), `${testFiles}/CT_small.dcm`]);
    config = {
      id: 'pacs',
      kind: 'dimse',
      host: archive.host,
      port: archive.port,
      calledAet: archive.aet,
      callingAet: 'TELEMED',
      retrieveMethod: 'c-get',
      maxAssociations: 2,
      storeDirectory: join(dir, 'transit'),
      timeoutMs: 10_000,
    };
  });
  afterAll(async () => {
    await archive?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers C-ECHO', async () => {
    await new DimseSource(config).echo();
  });

  it('finds studies with the Japanese name decoded from ISO 2022 IR 87', async () => {
    const source = new DimseSource(config);
    const studies = await source.search(query('study', { match: { PatientID: 'JP-87' } }));
    expect(studies).toHaveLength(1);
    expect(studies[0]!['0020000D']!.Value).toEqual([series.studyInstanceUid]);
    expect(studies[0]!['00100010']!.Value).toEqual([
      { Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' },
    ]);
    const all = await source.search(query('study'));
    expect(all.map((study) => study['0020000D']!.Value![0]).sort()).toEqual(
      [series.studyInstanceUid, '1.3.6.1.4.1.5962.1.2.1.20040119072730.12322'].sort(),
    );
    const page = await source.search(query('study', { limit: 1, offset: 1 }));
    expect(page).toHaveLength(1);
  });

  it('finds series and instances', async () => {
    const source = new DimseSource(config);
    const found = await source.search(query('series', { studyInstanceUid: series.studyInstanceUid }));
    expect(found.map((s) => s['0020000E']!.Value)).toEqual([[series.seriesInstanceUid]]);
    expect(found[0]!['00080060']!.Value).toEqual(['CT']);
    const instances = await source.search(
      query('instance', { studyInstanceUid: series.studyInstanceUid, seriesInstanceUid: series.seriesInstanceUid }),
    );
    expect(instances.map((i) => i['00080018']!.Value![0]).sort()).toEqual(
      series.instances.map((instance) => instance.sopInstanceUid).sort(),
    );
  });

  it('marks non-ASCII matching keys as UTF-8', () => {
    expect(findIdentifier(query('study', { match: { PatientName: '山田*' } })).SpecificCharacterSet).toBe('ISO_IR 192');
    expect(findIdentifier(query('study', { match: { PatientName: 'Yamada*' } })).SpecificCharacterSet).toBeUndefined();
  });

  /** The series by C-GET: every data set exactly as stored (Japanese name included), nothing left in transit. */
  async function expectWholeSeries(source: DimseSource): Promise<void> {
    const received = new Map<string, Buffer>();
    for await (const file of source.retrieve({
      studyInstanceUid: series.studyInstanceUid,
      seriesInstanceUid: series.seriesInstanceUid,
    })) {
      expect(file.seriesInstanceUid).toBe(series.seriesInstanceUid);
      expect(file.studyInstanceUid).toBe(series.studyInstanceUid);
      received.set(file.sopInstanceUid, await readBody(file));
    }
    expect(received.size).toBe(series.instances.length);
    for (const instance of series.instances) {
      const original = await readFile(instance.path);
      const got = received.get(instance.sopInstanceUid)!;
      // dcmqrscp keeps what storescu sent (explicit VR little endian) and sends it back as is.
      expect(dataSet(got).equals(dataSet(original))).toBe(true);
      expect(pixelData(got).equals(pixelData(original))).toBe(true);
      expect(Part10Instance.parse(got).toDicomJson({ instanceUrl: '' })['00100010']!.Value).toEqual([
        { Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' },
      ]);
    }
    expect(await readdir(join(dir, 'transit', source.id)).catch(() => [])).toEqual([]);
  }

  it('retrieves a series with C-GET, data sets byte-identical, kept in memory', async () => {
    await expectWholeSeries(new DimseSource(config));
  });

  it('retrieves a series with C-GET through temp files when instances outgrow memory, files removed', async () => {
    await expectWholeSeries(new DimseSource({ ...config, id: 'spilling', maxInMemoryInstanceBytes: 1000 }));
  });

  it('delivers everything when the queue holds one instance (the PACS made to wait for each)', async () => {
    const source = new DimseSource({ ...config, maxQueuedInstances: 1, maxQueuedBytes: 1 });
    const seen: string[] = [];
    for await (const file of source.retrieve({
      studyInstanceUid: series.studyInstanceUid,
      seriesInstanceUid: series.seriesInstanceUid,
    })) {
      // A slow consumer: each instance read a macrotask at a time.
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(file.sopInstanceUid);
      await readBody(file);
    }
    expect(seen.sort()).toEqual(series.instances.map((instance) => instance.sopInstanceUid).sort());
  });

  it('retrieves a whole study and a single instance', async () => {
    const source = new DimseSource(config);
    const seen: string[] = [];
    for await (const file of source.retrieve({ studyInstanceUid: '1.3.6.1.4.1.5962.1.2.1.20040119072730.12322' })) {
      seen.push(file.seriesInstanceUid);
      const original = await readFile(`${testFiles}/CT_small.dcm`);
      expect(pixelData(await readBody(file)).equals(pixelData(original))).toBe(true);
    }
    expect(seen).toEqual(['1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322']);
    const one = series.instances[3]!;
    const files: string[] = [];
    for await (const file of source.retrieve({
      studyInstanceUid: series.studyInstanceUid,
      seriesInstanceUid: series.seriesInstanceUid,
      sopInstanceUid: one.sopInstanceUid,
    })) {
      files.push(file.sopInstanceUid);
      file.body.destroy();
    }
    expect(files).toEqual([one.sopInstanceUid]);
  });

  it('never opens more associations than allowed', async () => {
    const source = new DimseSource(config);
    const scope = { studyInstanceUid: series.studyInstanceUid, seriesInstanceUid: series.seriesInstanceUid };
    const counts = await Promise.all(
      Array.from({ length: 5 }, async () => {
        let count = 0;
        for await (const file of source.retrieve(scope)) {
          count += 1;
          await readBody(file);
        }
        return count;
      }),
    );
    expect(counts).toEqual([6, 6, 6, 6, 6]);
    expect(source.pool.stats.peak).toBe(2);
    expect(source.pool.stats.inUse).toBe(0);
  });

  it('stops cleanly when the consumer stops early, temp files of unread instances removed', async () => {
    const source = new DimseSource(config);
    for await (const file of source.retrieve({ studyInstanceUid: series.studyInstanceUid })) {
      file.body.destroy();
      break;
    }
    expect(source.pool.stats.inUse).toBe(0);
    await source.echo();

    const spilling = new DimseSource({ ...config, id: 'spilling-early', maxInMemoryInstanceBytes: 1000 });
    for await (const file of spilling.retrieve({ studyInstanceUid: series.studyInstanceUid })) {
      file.body.destroy();
      break;
    }
    expect(spilling.pool.stats.inUse).toBe(0);
    await expect.poll(() => readdir(join(dir, 'transit', 'spilling-early'))).toEqual([]);
  });

  it('maps errors: not found, refused, unavailable, timeout', async () => {
    const source = new DimseSource(config);
    const missing = source.retrieve({ studyInstanceUid: '1.2.3.4.5.6.7.8.9' });
    await expect(drain(missing)).rejects.toMatchObject({ kind: 'not-found' });

    const wrongAet = new DimseSource({ ...config, calledAet: 'NOT_THE_AET' });
    await expect(wrongAet.echo()).rejects.toMatchObject({ kind: 'refused' });

    const closedPort = await freeTcpPort();
    await expect(new DimseSource({ ...config, port: closedPort }).echo()).rejects.toMatchObject({
      kind: 'unavailable',
    });

    // A peer that accepts the connection and never says a word.
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as { port: number }).port;
    try {
      const error = await new DimseSource({ ...config, port: silentPort, timeoutMs: 1000 }).echo().catch((e) => e);
      expect(error).toBeInstanceOf(SourceError);
      expect(error.kind).toBe('timeout');
    } finally {
      silent.close();
    }
  });
});

async function drain(files: AsyncIterable<InstanceFile>): Promise<void> {
  for await (const file of files) file.body.destroy();
}
