import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { mintAccessToken } from '@telemed/contract/access-token';
import { multipartBoundary, readMultipartRelated } from '../../dicom-proxy/src/multipart-related-reader.ts';
import { tieToLauncher } from '../../stack/child-lifetime.ts';
import { childFigures } from '../child-figures.ts';
import { linkProfiles, startEmulatedLink } from '../../stack/emulated-link.ts';
import { dicomProxyNodeFlags, nodeCompileCacheDir } from '../../stack/node-runtime.ts';
import { writeTestSeries, type TestSeries } from '../../stack/dicom-test-series.ts';
import { freeTcpPort } from '../../stack/free-port.ts';
import { startTestOrthanc, type PrivateOrthanc } from '../../stack/private-orthanc.ts';
import { startTestRedis } from '../../stack/private-redis.ts';

/**
 * `npm run bench:dicom`: a whole-series WADO-RS retrieve of a 300-slice 512×512 CT, straight from
 * a private Orthanc (the baseline, same run) and through the DICOM proxy with an empty cache
 * (cold) and a filled one (warm), rounds alternating. The proxy runs in its own process so its
 * peak RSS (VmHWM) is its alone.
 *
 * Twice: with the PACS behind an emulated hospital link (stack/emulated-link.ts, 100 Mbit/s,
 * 20 ms round trip: the deployment the proxy is for, a remote hospital's PACS read from the hub,
 * the proxy and its cache beside the readers), which gives `cold_ratio` and `warm_ratio`; and on
 * loopback, everything on this machine's two CPUs, which shows the proxy's own cost
 * (`loopback_*`). Then a ~1 GB series (loopback) for the peak RSS at that size, and DIMSE
 * retrieval (bench/dicom/dimse-retrieve.ts: C-GET through the proxy's source vs dcmtk's getscu),
 * whose figures are folded in as they are.
 */

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROOT = join(import.meta.dirname, '..', '..');
const SECRET = 'bench-dicom-secret-bench-dicom-secret-0123';
const SESSION = '3c9e8a41-6b2d-4f0e-9a7c-5d1b2e3f4a6c';

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const round2 = (value: number) => Math.round(value * 100) / 100;

interface RetrieveFigures {
  seconds: number;
  bytes: number;
  parts: number;
  firstInstanceMs: number;
}

/** One whole-series retrieve, read as a viewer would (part by part), timed. */
async function retrieveSeries(url: string, token?: string): Promise<RetrieveFigures> {
  const started = performance.now();
  const headers: Record<string, string> = { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { headers });
  if (response.status !== 200 || !response.body) throw new Error(`${url}: HTTP ${response.status}`);
  const boundary = multipartBoundary(response.headers.get('content-type'));
  if (!boundary) throw new Error(`${url}: not multipart`);
  let bytes = 0;
  let parts = 0;
  let firstInstanceMs = 0;
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  for await (const part of readMultipartRelated(body, boundary, { maxPartBytes: 64 * 1024 ** 2 })) {
    if (parts === 0) firstInstanceMs = performance.now() - started;
    parts += 1;
    bytes += part.bytes.size;
  }
  return { seconds: (performance.now() - started) / 1000, bytes, parts, firstInstanceMs };
}

interface ProxyProcess {
  url: string;
  child: ChildProcess;
  peakRssMb(): Promise<number>;
  /** Peak RSS once started and healthy, before any image went through. */
  idleRssMb: number;
  stop(): Promise<void>;
}

/** The proxy as the launcher starts it (stack/node-runtime.ts), with a fresh cache directory. */
async function startProxy(dicomWebUrl: string, cacheDir: string, redisUrl: string): Promise<ProxyProcess> {
  const port = await freeTcpPort();
  const child = spawn(process.execPath, [...dicomProxyNodeFlags, join(ROOT, 'dicom-proxy/src/main.ts')], {
    cwd: join(ROOT, 'dicom-proxy'),
    env: {
      NODE_COMPILE_CACHE: nodeCompileCacheDir,
      ...process.env,
      DICOM_PROXY_PORT: String(port),
      DICOM_PROXY_HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      DICOM_SOURCES: JSON.stringify([{ id: 'bench', kind: 'dicomweb', url: dicomWebUrl }]),
      DICOM_CACHE_DIR: cacheDir,
      DICOM_CACHE_MAX_BYTES: String(8 * 1024 ** 3),
      AUTH_SECRET: SECRET,
      // Audited as in production: every retrieve writes its record to the audit stream.
      REDIS_URL: redisUrl,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  tieToLauncher(child);
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`the proxy exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) break;
    if (attempt > 200) throw new Error('the proxy did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const peakRssMb = async () => {
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1] ?? Number.NaN);
    return kb / 1024;
  };
  const idleRssMb = await peakRssMb();
  return {
    url,
    child,
    peakRssMb,
    idleRssMb,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

function imagingToken(studyInstanceUid: string): Promise<string> {
  return mintAccessToken(
    {
      sub: 'bench-reader',
      name: 'Bench',
      siteId: 'bench-site',
      roles: ['physician'],
      imaging: { sessionId: SESSION, studies: [{ studyInstanceUid, deidentify: false }], mayQuerySources: false },
    },
    { secret: SECRET, audience: 'dicom-proxy', ttlSeconds: 3_600 },
  );
}

const seriesPath = (series: TestSeries) => `studies/${series.studyInstanceUid}/series/${series.seriesInstanceUid}`;

interface ComparedFigures {
  direct: RetrieveFigures[];
  cold: RetrieveFigures[];
  warm: RetrieveFigures[];
  peakRssMb: number;
  idleRssMb: number;
}

/** Rounds of direct, proxy cold (new proxy, empty cache), proxy warm (same proxy, twice). */
async function compare(
  dicomWebUrl: string,
  redisUrl: string,
  series: TestSeries,
  work: string,
  rounds: number,
  label: string,
): Promise<ComparedFigures> {
  const token = await imagingToken(series.studyInstanceUid);
  const directUrl = `${dicomWebUrl}${seriesPath(series)}`;
  // Orthanc's first read of the files warms its storage and index: not part of any measure.
  await retrieveSeries(directUrl);
  const figures: ComparedFigures = { direct: [], cold: [], warm: [], peakRssMb: 0, idleRssMb: 0 };
  for (let round = 0; round < rounds; round += 1) {
    figures.direct.push(await retrieveSeries(directUrl));
    const cacheDir = await mkdtemp(join(work, 'proxy-cache-'));
    const proxy = await startProxy(dicomWebUrl, cacheDir, redisUrl);
    try {
      const proxyUrl = `${proxy.url}/dicom-web/${seriesPath(series)}`;
      figures.cold.push(await retrieveSeries(proxyUrl, token));
      for (let warm = 0; warm < 2; warm += 1) figures.warm.push(await retrieveSeries(proxyUrl, token));
      figures.peakRssMb = Math.max(figures.peakRssMb, await proxy.peakRssMb());
      figures.idleRssMb = Math.max(figures.idleRssMb, proxy.idleRssMb);
    } finally {
      await proxy.stop();
      await rm(cacheDir, { recursive: true, force: true });
    }
    const last = (list: RetrieveFigures[]) => list[list.length - 1]!;
    const mbps = (f: RetrieveFigures) => round2(f.bytes / 1024 ** 2 / f.seconds);
    console.log(
      `${label} round ${round + 1}: direct ${mbps(last(figures.direct))} MB/s, proxy cold ${mbps(last(figures.cold))} MB/s, warm ${mbps(last(figures.warm))} MB/s, proxy peak RSS ${round2(figures.peakRssMb)} MB`,
    );
  }
  for (const list of [figures.cold, figures.warm]) {
    for (const one of list) {
      if (one.parts !== series.instances.length) throw new Error(`the proxy sent ${one.parts} instances`);
    }
  }
  return figures;
}

const throughput = (list: RetrieveFigures[]) => median(list.map((f) => f.bytes / 1024 ** 2 / f.seconds));
const firstMs = (list: RetrieveFigures[]) => median(list.map((f) => f.firstInstanceMs));

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'bench-dicom-'));
  let orthanc: PrivateOrthanc | undefined;
  const redis = await startTestRedis();
  try {
    orthanc = await startTestOrthanc();
    console.log('writing the 300-slice 512×512 CT …');
    const ct = await writeTestSeries({
      dir: join(work, 'ct300'),
      modality: 'CT',
      slices: 300,
      rows: 512,
      columns: 512,
      patientName: 'Shima^Ichiro=島^一郎=しま^いちろう',
      patientId: 'BENCH-300',
      characterSet: 'ISO_IR 192',
      seed: 'bench-dicom-300',
    });
    await orthanc.storeFiles(ct.instances.map((i) => i.path));
    await rm(join(work, 'ct300'), { recursive: true, force: true });
    const profile = linkProfiles.hospitalVpn;
    const orthancPort = Number(new URL(orthanc.dicomWebUrl).port);
    const link = await startEmulatedLink({
      port: await freeTcpPort(),
      target: { host: '127.0.0.1', port: orthancPort },
      profile,
    });
    const linked = await compare(
      orthanc.dicomWebUrl.replace(`:${orthancPort}/`, `:${link.port}/`),
      redis.url,
      ct,
      work,
      ROUNDS,
      `300 slices over ${profile.name}`,
    ).finally(() => link.close());
    const small = await compare(orthanc.dicomWebUrl, redis.url, ct, work, ROUNDS, '300 slices on loopback');
    const direct = throughput(linked.direct);
    const loopbackDirect = throughput(small.direct);
    const peakRssMb = Math.max(small.peakRssMb, linked.peakRssMb);
    const figures: Record<string, unknown> = {
      series_mb: round2((small.direct[0]?.bytes ?? 0) / 1024 ** 2),
      link_profile: profile.name,
      direct_mb_s: round2(direct),
      proxy_cold_mb_s: round2(throughput(linked.cold)),
      proxy_warm_mb_s: round2(throughput(linked.warm)),
      cold_ratio: round2(throughput(linked.cold) / direct),
      warm_ratio: round2(throughput(linked.warm) / direct),
      direct_first_instance_ms: round2(firstMs(linked.direct)),
      cold_first_instance_ms: round2(firstMs(linked.cold)),
      warm_first_instance_ms: round2(firstMs(linked.warm)),
      loopback_direct_mb_s: round2(loopbackDirect),
      loopback_cold_ratio: round2(throughput(small.cold) / loopbackDirect),
      loopback_warm_ratio: round2(throughput(small.warm) / loopbackDirect),
      loopback_cold_first_instance_ms: round2(firstMs(small.cold)),
      peak_rss_mb: round2(peakRssMb),
      // What the process holds before any image: the retrieve path's own share is the difference.
      idle_rss_mb: round2(small.idleRssMb),
      retrieve_rss_delta_mb: round2(peakRssMb - small.idleRssMb),
    };

    // ~1 GB: three copies on disk at once (files, Orthanc's storage, the proxy cache).
    const free = await statfs(tmpdir());
    if (process.env.BENCH_DICOM_SKIP_1GB === '1') {
      console.log('BENCH_DICOM_SKIP_1GB=1: the 1 GB series is left out');
    } else if (free.bavail * free.bsize < 5 * 1024 ** 3) {
      console.log('less than 5 GB free in the temporary directory: the 1 GB series is left out');
    } else {
      console.log('writing the 2000-slice 512×512 series (~1 GB) …');
      const big = await writeTestSeries({
        dir: join(work, 'ct2000'),
        modality: 'CT',
        slices: 2000,
        rows: 512,
        columns: 512,
        patientName: 'Shima^Jiro=島^次郎=しま^じろう',
        patientId: 'BENCH-2000',
        characterSet: 'ISO_IR 192',
        seed: 'bench-dicom-2000',
      });
      await orthanc.storeFiles(big.instances.map((i) => i.path));
      await rm(join(work, 'ct2000'), { recursive: true, force: true });
      const large = await compare(orthanc.dicomWebUrl, redis.url, big, work, 1, '2000 slices on loopback');
      figures.series_1gb_mb = round2((large.direct[0]?.bytes ?? 0) / 1024 ** 2);
      figures.direct_1gb_mb_s = round2(throughput(large.direct));
      figures.cold_ratio_1gb = round2(throughput(large.cold) / throughput(large.direct));
      figures.warm_ratio_1gb = round2(throughput(large.warm) / throughput(large.direct));
      figures.peak_rss_1gb_mb = round2(large.peakRssMb);
      figures.retrieve_rss_delta_1gb_mb = round2(large.peakRssMb - large.idleRssMb);
    }
    await orthanc.stop();
    orthanc = undefined;
    const dimse =
      process.env.BENCH_DICOM_SKIP_DIMSE === '1'
        ? undefined
        : await childFigures('bench/dicom/dimse-retrieve.ts', 'dimse');
    // Its figures are already named for DIMSE (dimse_…, getscu_…).
    if (dimse) Object.assign(figures, dimse);
    console.log(
      `targets (over ${profile.name}): cold ≥ 0.9× direct (${figures.cold_ratio}), warm ≥ 3× direct (${figures.warm_ratio}), peak RSS < 150 MB (${figures.peak_rss_mb}${figures.peak_rss_1gb_mb === undefined ? '' : `, 1 GB: ${figures.peak_rss_1gb_mb}`}), DIMSE ≥ 0.8× getscu (${figures.dimse_vs_getscu_ratio})`,
    );
    console.log(JSON.stringify(figures));
  } finally {
    await orthanc?.stop().catch(() => undefined);
    await redis.stop().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

await main();
