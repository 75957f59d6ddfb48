import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dcmtkEnvironment, startTestDcmqrscp, type PrivateDcmqrscp } from '../../stack/private-dcmqrscp.ts';
import { startTestOrthanc, type PrivateOrthanc } from '../../stack/private-orthanc.ts';
import { writeTestSeries, type TestSeries } from '../../stack/dicom-test-series.ts';
import { freeTcpPort } from '../../stack/free-port.ts';
import { Part10Instance } from './part10-instance.ts';
import { DimseSource, dimseSourceSchema, type DimseSourceConfig } from './dimse-source.ts';
import type { InstanceFile, StudyQuery } from './study-source.ts';

/**
 * C-MOVE retrieval through the source's own storage SCP, against dcmqrscp (whose HostTable names
 * the SCP) and Orthanc (whose DicomModalities do); C-FIND and C-GET against Orthanc's DICOM port too.
 */

const japaneseName = 'Yamada^Tarou=山田^太郎=やまだ^たろう';
const decodedName = { Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' };
const SCP_AET = 'TELEMED_SCP';

async function readBody(file: InstanceFile): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of file.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function pixelData(bytes: Buffer): Buffer {
  return Buffer.from(Part10Instance.parse(bytes).frame(1).bytes);
}

/** The data set after the file meta (preamble, `DICM`, then group 0002 led by its length): what the PACS sent. */
function dataSet(part10: Buffer): Buffer {
  return part10.subarray(144 + part10.readUInt32LE(140));
}

function query(level: StudyQuery['level'], extra: Partial<StudyQuery> = {}): StudyQuery {
  return { level, match: {}, includeFields: [], fuzzyMatching: false, limit: 100, offset: 0, ...extra };
}

/** Every instance of the series, checked byte for byte against the originals. */
async function expectWholeSeries(source: DimseSource, series: TestSeries): Promise<void> {
  const received = new Map<string, Buffer>();
  for await (const file of source.retrieve({
    studyInstanceUid: series.studyInstanceUid,
    seriesInstanceUid: series.seriesInstanceUid,
  })) {
    expect(file.studyInstanceUid).toBe(series.studyInstanceUid);
    expect(file.seriesInstanceUid).toBe(series.seriesInstanceUid);
    received.set(file.sopInstanceUid, await readBody(file));
  }
  expect([...received.keys()].sort()).toEqual(series.instances.map((instance) => instance.sopInstanceUid).sort());
  for (const instance of series.instances) {
    const got = received.get(instance.sopInstanceUid)!;
    const original = await readFile(instance.path);
    expect(dataSet(got).equals(dataSet(original))).toBe(true);
    expect(pixelData(got).equals(pixelData(original))).toBe(true);
    expect(Part10Instance.parse(got).toDicomJson({ instanceUrl: '' })['00100010']!.Value).toEqual([decodedName]);
  }
}

/** storescu of one file to the proxy's SCP; resolves with its exit code. */
function storescu(port: number, callingAet: string, calledAet: string, file: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn('storescu', ['-aet', callingAet, '-aec', calledAet, '127.0.0.1', String(port), file], {
      stdio: 'ignore',
      env: dcmtkEnvironment,
    });
    child.once('error', () => resolve(-1));
    child.once('close', resolve);
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  return readdir(dir, { recursive: true }).catch(() => []);
}

let work: string;
let series: TestSeries;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'telemed-dimse-move-test-'));
  series = await writeTestSeries({
    dir: join(work, 'series'),
    modality: 'CT',
    slices: 6,
    rows: 64,
    columns: 64,
    patientName: japaneseName,
    patientId: 'MOVE-87',
    characterSet: 'ISO 2022 IR 87',
    seed: 'dimse-move-test',
  });
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('C-MOVE configuration', () => {
  it('requires the move destination and the storage SCP port', () => {
    const base = { id: 'p', kind: 'dimse', host: 'h', port: 104, calledAet: 'A', callingAet: 'B' } as const;
    const result = dimseSourceSchema.safeParse({ ...base, retrieveMethod: 'c-move' });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.')).sort()).toEqual([
      'moveDestinationAet',
      'storageScpPort',
    ]);
    expect(
      dimseSourceSchema.safeParse({ ...base, retrieveMethod: 'c-move', moveDestinationAet: 'X', storageScpPort: 11112 })
        .success,
    ).toBe(true);
    expect(dimseSourceSchema.safeParse({ ...base, retrieveMethod: 'c-get' }).success).toBe(true);
  });
});

describe('DimseSource C-MOVE against dcmqrscp', () => {
  let archive: PrivateDcmqrscp;
  let scpPort: number;
  let config: DimseSourceConfig;
  let source: DimseSource;

  beforeAll(async () => {
    scpPort = await freeTcpPort();
    archive = await startTestDcmqrscp({ peers: [{ aet: SCP_AET, host: '127.0.0.1', port: scpPort }] });
    await archive.load(series.instances.map((instance) => instance.path));
    config = {
      id: 'move-pacs',
      kind: 'dimse',
      host: archive.host,
      port: archive.port,
      calledAet: archive.aet,
      callingAet: 'TELEMED',
      retrieveMethod: 'c-move',
      moveDestinationAet: SCP_AET,
      storageScpPort: scpPort,
      storageScpHost: '127.0.0.1',
      maxAssociations: 2,
      storeDirectory: join(work, 'transit-dcmqrscp'),
      timeoutMs: 10_000,
    };
    source = new DimseSource(config);
  });
  afterAll(async () => {
    await source?.close();
    await archive?.stop();
  });

  it('retrieves a series, pixel data byte-identical and the Japanese name intact', async () => {
    await expectWholeSeries(source, series);
    expect(await filesUnder(join(work, 'transit-dcmqrscp'))).toEqual(['move-pacs']);
  });

  it('routes concurrent moves of the same series each to its own retrieve', async () => {
    const scope = { studyInstanceUid: series.studyInstanceUid, seriesInstanceUid: series.seriesInstanceUid };
    const lists = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const seen: string[] = [];
        for await (const file of source.retrieve(scope)) {
          seen.push(file.sopInstanceUid);
          await readBody(file);
        }
        return seen.sort();
      }),
    );
    const expected = series.instances.map((instance) => instance.sopInstanceUid).sort();
    expect(lists).toEqual([expected, expected, expected]);
    expect(source.pool.stats.peak).toBeLessThanOrEqual(2);
  });

  it('retrieves a single instance, and stops cleanly when the consumer stops early', async () => {
    const one = series.instances[2]!;
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

    for await (const file of source.retrieve({ studyInstanceUid: series.studyInstanceUid })) {
      file.body.destroy();
      break;
    }
    expect(source.pool.stats.inUse).toBe(0);
    // The source still works afterwards, and nothing of the abandoned move is delivered to it.
    await expectWholeSeries(source, series);
  });

  it('maps a study the PACS lacks to not-found', async () => {
    await expect(drain(source.retrieve({ studyInstanceUid: '1.2.3.4.5.6.7.8.9' }))).rejects.toMatchObject({
      kind: 'not-found',
    });
  });

  it('refuses C-STOREs from an unknown AE or to another AE, and discards what nobody asked for', async () => {
    const file = series.instances[0]!.path;
    expect(await storescu(scpPort, 'INTRUDER', SCP_AET, file)).not.toBe(0);
    expect(await storescu(scpPort, archive.aet, 'NOT_OUR_AET', file)).not.toBe(0);
    // The PACS's own AE, but no C-MOVE asked for it: refused, not kept.
    await storescu(scpPort, archive.aet, SCP_AET, file);
    expect(await filesUnder(join(work, 'transit-dcmqrscp', 'move-pacs'))).toEqual([]);
  });

  it('reports a move destination the PACS does not know', async () => {
    const stranger = new DimseSource({
      ...config,
      id: 'move-unknown',
      moveDestinationAet: 'NOBODY',
      storageScpPort: await freeTcpPort(),
    });
    try {
      await expect(drain(stranger.retrieve({ studyInstanceUid: series.studyInstanceUid }))).rejects.toMatchObject({
        kind: 'refused',
      });
    } finally {
      await stranger.close();
    }
  });
});

describe('DimseSource against Orthanc over DIMSE', () => {
  let orthanc: PrivateOrthanc;
  let scpPort: number;
  let base: DimseSourceConfig;

  beforeAll(async () => {
    scpPort = await freeTcpPort();
    orthanc = await startTestOrthanc({
      modalities: { proxy: { aet: SCP_AET, host: '127.0.0.1', port: scpPort } },
    });
    await orthanc.storeFiles(series.instances.map((instance) => instance.path));
    base = {
      id: 'orthanc-dimse',
      kind: 'dimse',
      host: '127.0.0.1',
      port: orthanc.dicomPort,
      calledAet: orthanc.aet,
      // Orthanc answers C-FIND / C-GET / C-MOVE only to AEs it knows: the proxy's modality.
      callingAet: SCP_AET,
      retrieveMethod: 'c-get',
      maxAssociations: 2,
      storeDirectory: join(work, 'transit-orthanc'),
      timeoutMs: 10_000,
    };
  }, 60_000);
  afterAll(async () => {
    await orthanc?.stop();
  });

  it('finds the study by C-FIND with the Japanese name decoded', async () => {
    const source = new DimseSource(base);
    const studies = await source.search(query('study', { match: { PatientID: 'MOVE-87' } }));
    expect(studies).toHaveLength(1);
    expect(studies[0]!['0020000D']!.Value).toEqual([series.studyInstanceUid]);
    expect(studies[0]!['00100010']!.Value).toEqual([decodedName]);
  });

  it('retrieves the series by C-GET', async () => {
    await expectWholeSeries(new DimseSource(base), series);
  });

  it('retrieves the series by C-MOVE', async () => {
    const source = new DimseSource({
      ...base,
      retrieveMethod: 'c-move',
      moveDestinationAet: SCP_AET,
      storageScpPort: scpPort,
      storageScpHost: '127.0.0.1',
    });
    try {
      await expectWholeSeries(source, series);
    } finally {
      await source.close();
    }
  });
});

async function drain(files: AsyncIterable<InstanceFile>): Promise<void> {
  for await (const file of files) file.body.destroy();
}
