import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tieToLauncher } from './child-lifetime.ts';
import { freeTcpPort } from './free-port.ts';

/**
 * A dcmqrscp (DCMTK's classic DIMSE archive) of the project's own, on loopback: the stand-in for
 * a PACS that speaks only C-ECHO / C-FIND / C-GET / C-MOVE / C-STORE. One storage area under
 * `dir`, its AE title, and a HostTable of peers it may C-MOVE to. It stores and serves the
 * uncompressed transfer syntaxes only (dcmqrscp cannot transcode).
 */

/** A peer dcmqrscp may C-MOVE to (e.g. the proxy's own storage SCP). */
export interface DcmqrscpPeer {
  aet: string;
  host: string;
  port: number;
}

export interface PrivateDcmqrscp {
  host: string;
  port: number;
  aet: string;
  /** Stores Part 10 files into the archive (storescu), in order; rejects when any is refused. */
  load(files: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

export interface PrivateDcmqrscpOptions {
  dir: string;
  port: number;
  aet?: string;
  peers?: readonly DcmqrscpPeer[];
  /** Largest PDU dcmqrscp receives (it sends to each peer what that peer announces). */
  maxPduBytes?: number;
}

/** AE titles are up to 16 characters of a restricted repertoire; they go into a config file. */
const aetPattern = /^[A-Za-z0-9_\-.]{1,16}$/;

/**
 * DCMTK 3.6.7 sets no TCP_NODELAY unless told so through the environment: without it every
 * instance stalls ~50 ms on Nagle + delayed ACK.
 */
export const dcmtkEnvironment = { ...process.env, TCP_NODELAY: '1' };

function dcmqrscpConfig(options: PrivateDcmqrscpOptions, aet: string, storage: string): string {
  const peers = options.peers ?? [];
  for (const peer of [aet, ...peers.map((p) => p.aet)]) {
    if (!aetPattern.test(peer)) throw new Error(`invalid AE title for dcmqrscp: ${JSON.stringify(peer)}`);
  }
  const hostLines = peers.map(
    (peer, index) => `peer${index} = (${peer.aet}, ${peer.host.replace(/[^A-Za-z0-9.:-]/g, '')}, ${peer.port})`,
  );
  return [
    `NetworkTCPPort = ${options.port}`,
    `MaxPDUSize = ${options.maxPduBytes ?? 131072}`,
    'MaxAssociations = 32',
    'HostTable BEGIN',
    ...hostLines,
    'HostTable END',
    'VendorTable BEGIN',
    'VendorTable END',
    'AETable BEGIN',
    // Quota: up to 100000 studies of up to 64 GB: no eviction during a test or a benchmark.
    `${aet} ${storage} RW (100000, 65536mb) ANY`,
    'AETable END',
    '',
  ].join('\n');
}

function runDcmtk(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: dcmtkEnvironment });
    tieToLauncher(child);
    let output = '';
    const keep = (chunk: Buffer) => {
      if (output.length < 16_384) output += chunk.toString();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (error) => resolve({ code: -1, output: String(error) }));
    child.once('close', (code) => resolve({ code, output }));
  });
}

async function answersEcho(port: number, aet: string): Promise<boolean> {
  const { code } = await runDcmtk('echoscu', ['-to', '2', '-aec', aet, '127.0.0.1', String(port)]);
  return code === 0;
}

export async function startPrivateDcmqrscp(options: PrivateDcmqrscpOptions): Promise<PrivateDcmqrscp> {
  const aet = options.aet ?? 'TELEMED_QR';
  const storage = join(options.dir, 'storage');
  await mkdir(storage, { recursive: true });
  const configPath = join(options.dir, 'dcmqrscp.cfg');
  await writeFile(configPath, dcmqrscpConfig(options, aet, storage));
  const child = spawn('dcmqrscp', ['-c', configPath, '-ll', 'error', String(options.port)], {
    stdio: 'ignore',
    detached: true,
    cwd: options.dir,
    env: dcmtkEnvironment,
  });
  tieToLauncher(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.once('error', () => undefined);
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) break;
    if (await answersEcho(options.port, aet)) {
      return {
        host: '127.0.0.1',
        port: options.port,
        aet,
        async load(files) {
          // storescu takes many files per association; batches keep the command line short.
          for (let start = 0; start < files.length; start += 200) {
            const batch = files.slice(start, start + 200);
            const { code, output } = await runDcmtk('storescu', [
              '-aec',
              aet,
              '127.0.0.1',
              String(options.port),
              ...batch,
            ]);
            if (code !== 0) throw new Error(`storescu into dcmqrscp failed (exit ${code}): ${output.slice(0, 2000)}`);
          }
        },
        async stop() {
          // dcmqrscp forks per association; the process group takes the children along.
          if (child.exitCode === null && child.pid) {
            try {
              process.kill(-child.pid, 'SIGTERM');
            } catch {
              child.kill('SIGTERM');
            }
          }
          await exited;
        },
      };
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`dcmqrscp did not start on port ${options.port} (is dcmtk installed, is the port free?)`);
}

/** A throwaway dcmqrscp on a free port, for a test file or a benchmark; `stop` removes its data. */
export async function startTestDcmqrscp(
  options: { aet?: string; peers?: readonly DcmqrscpPeer[]; maxPduBytes?: number } = {},
): Promise<PrivateDcmqrscp> {
  const dir = await mkdtemp(join(tmpdir(), 'telemed-dcmqrscp-'));
  try {
    const archive = await startPrivateDcmqrscp({ dir, port: await freeTcpPort(), ...options });
    return {
      ...archive,
      async stop() {
        await archive.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
