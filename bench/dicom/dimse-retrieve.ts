import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DimseSource } from '../../dicom-proxy/src/dimse-source.ts';
import { writeTestSeries } from '../../stack/dicom-test-series.ts';
import { dcmtkEnvironment, startTestDcmqrscp, type PrivateDcmqrscp } from '../../stack/private-dcmqrscp.ts';

/**
 * Part of `npm run bench:dicom`: one CT series (default 300 slices of 512×512) retrieved from the
 * same dcmqrscp by DCMTK's getscu (the baseline, TCP_NODELAY=1, same max PDU, writing each
 * instance to disk) and through DimseSource's C-GET (each instance received into memory and read
 * whole by the consumer, as the front's cache does), in alternating rounds. Prints MB/s for both,
 * their ratio, the peak RSS sampled while the Node side retrieves and the RSS before the first
 * retrieve (the synthetic series is made in this process); the last line is one JSON object.
 * The machine is shared and noisy: compare within one run, and run it more than once.
 */

const SLICES = Number(process.env.BENCH_SLICES ?? 300);
const SIZE = Number(process.env.BENCH_MATRIX ?? 512);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MAX_PDU = 131072;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const round2 = (value: number) => Math.round(value * 100) / 100;

function getscu(archive: PrivateDcmqrscp, study: string, series: string, outDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = [
      '-S',
      '-aec',
      archive.aet,
      '--max-pdu',
      String(MAX_PDU),
      '-k',
      'QueryRetrieveLevel=SERIES',
      '-k',
      `StudyInstanceUID=${study}`,
      '-k',
      `SeriesInstanceUID=${series}`,
      '-od',
      outDir,
      archive.host,
      String(archive.port),
    ];
    const child = spawn('getscu', args, { stdio: ['ignore', 'ignore', 'pipe'], env: dcmtkEnvironment });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`getscu exit ${code}: ${errors}`))));
  });
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

const work = await mkdtemp(join(tmpdir(), 'telemed-bench-dimse-'));
let archive: PrivateDcmqrscp | undefined;
try {
  const series = await writeTestSeries({
    dir: join(work, 'series'),
    modality: 'CT',
    slices: SLICES,
    rows: SIZE,
    columns: SIZE,
    patientName: 'Yamada^Tarou=山田^太郎=やまだ^たろう',
    patientId: 'BENCH-1',
    characterSet: 'ISO 2022 IR 87',
    seed: 'bench-dimse',
  });
  archive = await startTestDcmqrscp({ maxPduBytes: MAX_PDU });
  await archive.load(series.instances.map((instance) => instance.path));
  const source = new DimseSource({
    id: 'bench',
    kind: 'dimse',
    host: archive.host,
    port: archive.port,
    calledAet: archive.aet,
    callingAet: 'TELEMED_BENCH',
    retrieveMethod: 'c-get',
    maxAssociations: 2,
    storeDirectory: join(work, 'transit'),
  });
  const scope = { studyInstanceUid: series.studyInstanceUid, seriesInstanceUid: series.seriesInstanceUid };

  const getscuRates: number[] = [];
  const proxyRates: number[] = [];
  // Before any retrieve: what the retrieves add is the difference.
  const startRss = process.memoryUsage.rss();
  let peakRss = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const outDir = join(work, `getscu-${round}`);
    await mkdir(outDir);
    let started = performance.now();
    await getscu(archive, scope.studyInstanceUid, scope.seriesInstanceUid, outDir);
    const getscuSeconds = (performance.now() - started) / 1000;
    const getscuBytes = await directoryBytes(outDir);
    await rm(outDir, { recursive: true, force: true });
    getscuRates.push(getscuBytes / 1e6 / getscuSeconds);

    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20);
    started = performance.now();
    let bytes = 0;
    let count = 0;
    for await (const file of source.retrieve(scope)) {
      for await (const chunk of file.body) bytes += (chunk as Buffer).length;
      count += 1;
    }
    const proxySeconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    if (count !== SLICES) throw new Error(`DimseSource retrieved ${count} of ${SLICES} instances`);
    proxyRates.push(bytes / 1e6 / proxySeconds);
    console.log(
      `round ${round + 1}: getscu ${round2(getscuRates.at(-1)!)} MB/s, DimseSource ${round2(proxyRates.at(-1)!)} MB/s`,
    );
  }
  const getscuMbps = median(getscuRates);
  const dimseMbps = median(proxyRates);
  const figures = {
    dimse_series_slices: SLICES,
    dimse_series_mb: round2((SLICES * SIZE * SIZE * 2) / 1e6),
    getscu_mb_per_s: round2(getscuMbps),
    dimse_source_mb_per_s: round2(dimseMbps),
    dimse_vs_getscu_ratio: round2(dimseMbps / getscuMbps),
    dimse_peak_rss_mb: round2(peakRss / 1e6),
    dimse_rss_before_mb: round2(startRss / 1e6),
  };
  console.log(JSON.stringify(figures));
} finally {
  await archive?.stop();
  await rm(work, { recursive: true, force: true });
}
