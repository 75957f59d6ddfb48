import { spawn } from 'node:child_process';
import { createReadStream, openSync, closeSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { tieToLauncher } from './child-lifetime.ts';
import { freeTcpPort } from './free-port.ts';

const ORTHANC_BIN = '/usr/sbin/Orthanc';
const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

/** A DICOM peer Orthanc may send to (C-MOVE destination, C-STORE target). */
export interface OrthancModality {
  aet: string;
  host: string;
  port: number;
}

/** What Orthanc answers to `POST /instances` for one stored file. */
export interface OrthancStoredInstance {
  ID: string;
  Status: string;
  ParentStudy: string;
  ParentSeries: string;
  ParentPatient: string;
}

export interface PrivateOrthanc {
  /** REST API root, e.g. `http://127.0.0.1:8043`. */
  httpUrl: string;
  /** DICOMweb root with its trailing slash, e.g. `http://127.0.0.1:8043/dicom-web/`. */
  dicomWebUrl: string;
  dicomPort: number;
  aet: string;
  /** Uploads Part 10 files (`POST /instances`), each streamed from disk, one after the other. */
  storeFiles(paths: readonly string[]): Promise<OrthancStoredInstance[]>;
  stop(): Promise<void>;
}

export interface PrivateOrthancOptions {
  dir: string;
  httpPort: number;
  dicomPort: number;
  aet?: string;
  /** Keep the database and storage between runs (otherwise both are wiped at start). */
  persistent: boolean;
  /** Peers Orthanc may C-MOVE / C-STORE to, by a name of our choosing. */
  modalities?: Record<string, OrthancModality>;
}

function orthancConfig(options: PrivateOrthancOptions, aet: string): object {
  const modalities: Record<string, [string, string, number]> = {};
  for (const [name, peer] of Object.entries(options.modalities ?? {}))
    modalities[name] = [peer.aet, peer.host, peer.port];
  return {
    Name: `telemed-${aet}`,
    StorageDirectory: join(options.dir, 'storage'),
    IndexDirectory: join(options.dir, 'index'),
    HttpPort: options.httpPort,
    DicomPort: options.dicomPort,
    DicomAet: aet,
    // Loopback only: Orthanc has no bind-address option, but refuses non-local clients when
    // remote access is off, so running without authentication exposes nothing.
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    // Without this Orthanc falls back to Latin-1 for datasets lacking a character set and
    // mangles Japanese text written back.
    DefaultEncoding: 'Utf8',
    // Gzip'd answers are the proxy's business, not the PACS's; identity bodies stream simply.
    HttpCompressionEnabled: false,
    Plugins: [DICOMWEB_PLUGIN],
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: true, Ssl: false, StudiesMetadata: 'Full' },
    DicomModalities: modalities,
    DicomCheckCalledAet: false,
    StableAge: 2,
    // Every run in tests writes little, and a busy machine must not make Orthanc refuse uploads.
    MaximumStorageSize: 0,
    MaximumPatientCount: 0,
    HttpTimeout: 60,
    KeepAlive: true,
  };
}

async function answersSystem(httpUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${httpUrl}/system`, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * An Orthanc of the project's own (with its DICOMweb plugin), on loopback only, data under
 * `dir`: the PACS of the demo and of every test. Its log goes to `dir/orthanc.log`.
 */
export async function startPrivateOrthanc(options: PrivateOrthancOptions): Promise<PrivateOrthanc> {
  const aet = options.aet ?? 'TELEMED_PACS';
  if (!options.persistent) {
    await rm(join(options.dir, 'storage'), { recursive: true, force: true });
    await rm(join(options.dir, 'index'), { recursive: true, force: true });
  }
  await mkdir(options.dir, { recursive: true });
  const configPath = join(options.dir, 'orthanc.json');
  await writeFile(configPath, JSON.stringify(orthancConfig(options, aet), null, 2));
  const logFd = openSync(join(options.dir, 'orthanc.log'), 'a');
  const child = spawn(ORTHANC_BIN, [configPath], {
    // DCMTK inside Orthanc stalls ~50 ms per instance on DIMSE transfers unless Nagle is off.
    env: { ...process.env, TCP_NODELAY: '1' },
    stdio: ['ignore', logFd, logFd],
    detached: true,
  });
  closeSync(logFd);
  tieToLauncher(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.once('error', () => undefined);
  const httpUrl = `http://127.0.0.1:${options.httpPort}`;
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await answersSystem(httpUrl)) {
      return {
        httpUrl,
        dicomWebUrl: `${httpUrl}/dicom-web/`,
        dicomPort: options.dicomPort,
        aet,
        storeFiles: (paths) => storeFiles(httpUrl, paths),
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      };
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(
    `Orthanc did not start on ports ${options.httpPort}/${options.dicomPort} (see ${join(options.dir, 'orthanc.log')})`,
  );
}

async function storeFiles(httpUrl: string, paths: readonly string[]): Promise<OrthancStoredInstance[]> {
  const stored: OrthancStoredInstance[] = [];
  for (const path of paths) {
    const size = (await stat(path)).size;
    // `duplex` (needed for a streamed body) is missing from the DOM typing the e2e build uses.
    const upload: RequestInit & { duplex: 'half' } = {
      method: 'POST',
      headers: { 'Content-Type': 'application/dicom', 'Content-Length': String(size) },
      body: Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>,
      duplex: 'half',
    };
    const response = await fetch(`${httpUrl}/instances`, upload);
    const text = await response.text();
    if (!response.ok) throw new Error(`Orthanc refused ${path}: HTTP ${response.status} ${text.slice(0, 200)}`);
    stored.push(JSON.parse(text) as OrthancStoredInstance);
  }
  return stored;
}

/** A throwaway private Orthanc on free ports, for a test file; `stop` removes its data. */
export async function startTestOrthanc(
  options: { aet?: string; modalities?: Record<string, OrthancModality> } = {},
): Promise<PrivateOrthanc> {
  const dir = await mkdtemp(join(tmpdir(), 'telemed-orthanc-'));
  try {
    const orthanc = await startPrivateOrthanc({
      dir,
      httpPort: await freeTcpPort(),
      dicomPort: await freeTcpPort(),
      persistent: false,
      ...options,
    });
    return {
      ...orthanc,
      async stop() {
        await orthanc.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
