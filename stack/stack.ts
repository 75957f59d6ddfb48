import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { connectRedis, seedDemo } from '@telemed/domain';
import { tieToLauncher } from './child-lifetime.ts';
import { freeMediaPorts, freeTcpPort } from './free-port.ts';
import { dicomProxyNodeFlags, nodeCompileCacheDir } from './node-runtime.ts';
import { ensureDemoStudy } from './demo-study.ts';
import { startPrivateCoturn, type PrivateCoturn } from './private-coturn.ts';
import { startPrivateOrthanc, type PrivateOrthanc } from './private-orthanc.ts';
import { startPrivateRedis, type PrivateRedis } from './private-redis.ts';

/**
 * Starts the whole system — Redis (a private one unless given), SFU, signaling, DICOM proxy and
 * the web server — as child processes, each configured only through its environment, and
 * waits until every one answers its health route. `npm start`, the end-to-end tests and the
 * benchmarks all start the system through here.
 */

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface StackPorts {
  web: number;
  signaling: number;
  sfuRpc: number;
  dicomProxy: number;
  /** First of the SFU's media ports (one UDP + TCP port per worker). */
  media: number;
  privateRedis: number;
  /** The private demo PACS (Orthanc): REST/DICOMweb and DICOM ports. */
  orthancHttp: number;
  orthancDicom: number;
  /**
   * The private TURN server (coturn): TURN over UDP and TCP, TURN over TLS (443 is tried first
   * when asked for, else a free port is used and the log says so), and the first of its 32 relay ports.
   */
  turn: number;
  turnTls: number;
  turnRelay: number;
}

export const defaultPorts: StackPorts = {
  web: 3000,
  signaling: 3001,
  sfuRpc: 3002,
  dicomProxy: 3003,
  media: 40000,
  privateRedis: 6380,
  // Not Orthanc's own defaults (8042/4242), so a hospital's Orthanc on the same machine is left alone.
  orthancHttp: 8043,
  orthancDicom: 4243,
  turn: 3478,
  turnTls: 443,
  turnRelay: 49160,
};

const TURN_RELAY_PORTS = 32;

export interface StackOptions {
  /** Fixed ports, or `free` to pick unused ones (tests). */
  ports: StackPorts | 'free';
  /** An existing Redis; when absent a private redis-server runs with data under `dataDir`. */
  redisUrl?: string;
  dataDir: string;
  /** Keep the private Redis's data between runs (append-only file). */
  persistent: boolean;
  seedDemo: boolean;
  sfuWorkers?: number;
  /** Where service output goes: pretty-printed to stdout, or one log file per service. */
  logs: 'stdout' | { dir: string };
  /** Extra environment for every service (e.g. LOG_LEVEL). */
  env?: Record<string, string>;
  /** Fixed secrets (a restart keeps them); random when absent. */
  secrets?: StackSecrets;
  /**
   * An existing TURN server (its URLs and TURN REST API shared secret); when absent a private
   * coturn runs with its files under `dataDir`.
   */
  turn?: { urls: string[]; secret: string };
  /** A certificate (PEM files) for the private coturn's TLS listener; self-signed when absent. */
  turnCertificate?: { cert: string; key: string };
  /**
   * Where the private coturn listens (loopback by default) and, when browsers reach it at another
   * address, that one (e.g. the servers' side of an emulated link); its TLS port, when it must be
   * a given one (443 for a "TCP 443 only" firewall) whatever `ports` says.
   */
  privateTurn?: { listenAddress?: string; externalAddress?: string; tlsPort?: number };
  /**
   * The PACS the DICOM proxy reads (its DICOM_SOURCES JSON). When absent a private Orthanc runs
   * with its data under `dataDir`, holding the demo study.
   */
  dicomSources?: string;
}

export interface Stack {
  ports: StackPorts;
  webUrl: string;
  signalingUrl: string;
  sfuRpcUrl: string;
  redisUrl: string;
  secrets: StackSecrets;
  /** The TURN URLs browsers are given (the private coturn's unless one was configured). */
  turnUrls: string[];
  /**
   * The private coturn's self-signed certificate (SHA-256 of its public key, base64), for test
   * browsers to pin; null with a configured TURN server or a real certificate.
   */
  turnCertificateSpki: string | null;
  /** The last lines every service printed (for test failure reports). */
  logTails(lines?: number): Promise<string>;
  stop(): Promise<void>;
}

export interface StackSecrets {
  auth: string;
  sfuRpc: string;
  /** The private coturn's TURN REST API secret (random when absent). */
  turn?: string;
}

export type ServiceName = 'sfu' | 'signaling' | 'dicom-proxy' | 'web';

interface RunningService {
  name: ServiceName;
  child: ChildProcess;
  exited: Promise<void>;
  log: WriteStream | null;
  logPath: string | null;
}

const READY_TIMEOUT_MS = 60_000;

async function pickPorts(): Promise<StackPorts> {
  return {
    web: await freeTcpPort(),
    signaling: await freeTcpPort(),
    sfuRpc: await freeTcpPort(),
    dicomProxy: await freeTcpPort(),
    media: await freeMediaPorts(4),
    privateRedis: await freeTcpPort(),
    orthancHttp: await freeTcpPort(),
    orthancDicom: await freeTcpPort(),
    turn: await freeMediaPorts(1),
    turnTls: await freeMediaPorts(1),
    turnRelay: await freeMediaPorts(TURN_RELAY_PORTS),
  };
}

export async function launchStack(options: StackOptions): Promise<Stack> {
  const ports = options.ports === 'free' ? await pickPorts() : options.ports;
  const given = options.secrets ?? {
    auth: process.env.AUTH_SECRET ?? randomBytes(32).toString('base64url'),
    sfuRpc: process.env.SFU_RPC_SECRET ?? randomBytes(32).toString('base64url'),
  };
  const secrets: StackSecrets = { ...given, turn: given.turn ?? randomBytes(24).toString('base64url') };
  let privateRedis: PrivateRedis | null = null;
  let privateOrthanc: PrivateOrthanc | null = null;
  let privateCoturn: PrivateCoturn | null = null;
  const services: RunningService[] = [];

  const stop = async () => {
    // Reverse start order: the web and signaling go first, so nobody is left mid-call on a dead SFU.
    for (const service of [...services].reverse()) await stopService(service);
    await privateCoturn?.stop();
    await privateOrthanc?.stop();
    await privateRedis?.stop();
  };

  try {
    if (!options.redisUrl) {
      privateRedis = await startPrivateRedis({
        dir: join(options.dataDir, 'redis'),
        port: ports.privateRedis,
        persistent: options.persistent,
      });
    }
    const redisUrl = options.redisUrl ?? privateRedis!.url;
    if (options.seedDemo) await seed(redisUrl);
    let dicomSources = options.dicomSources;
    if (!dicomSources) {
      privateOrthanc = await startPrivateOrthanc({
        dir: join(options.dataDir, 'orthanc'),
        httpPort: ports.orthancHttp,
        dicomPort: ports.orthancDicom,
        persistent: options.persistent,
      });
      if (options.seedDemo) await ensureDemoStudy(privateOrthanc);
      dicomSources = JSON.stringify([{ id: 'demo-pacs', kind: 'dicomweb', url: privateOrthanc.dicomWebUrl }]);
    }

    let turn = options.turn;
    if (!turn) {
      privateCoturn = await startPrivateCoturn({
        dir: join(options.dataDir, 'coturn'),
        port: ports.turn,
        tlsPort: options.privateTurn?.tlsPort ?? (ports.turnTls === 443 ? 'prefer-443' : ports.turnTls),
        ...(options.privateTurn?.listenAddress ? { listenAddress: options.privateTurn.listenAddress } : {}),
        ...(options.privateTurn?.externalAddress ? { externalAddress: options.privateTurn.externalAddress } : {}),
        relayPorts: { first: ports.turnRelay, count: TURN_RELAY_PORTS },
        secret: secrets.turn!,
        ...(options.turnCertificate ? { certificate: options.turnCertificate } : {}),
        // Said to whoever runs `npm start`; test stacks choose their ports and pin the certificate.
        onNotice: (message) => (options.logs === 'stdout' ? console.warn(`coturn: ${message}`) : undefined),
      });
      turn = { urls: privateCoturn.urls, secret: privateCoturn.secret };
    }

    const common = { LOG_LEVEL: 'info', ...options.env };
    const specs: {
      name: ServiceName;
      entry: string;
      nodeFlags?: string[];
      env: Record<string, string>;
      health: string;
    }[] = [
      {
        name: 'sfu',
        entry: 'sfu/src/main.ts',
        env: {
          SFU_RPC_PORT: String(ports.sfuRpc),
          SFU_RPC_SECRET: secrets.sfuRpc,
          SFU_RTC_PORT: String(ports.media),
          ...(options.sfuWorkers ? { SFU_WORKERS: String(options.sfuWorkers) } : {}),
        },
        health: `http://127.0.0.1:${ports.sfuRpc}/healthz`,
      },
      {
        name: 'signaling',
        entry: 'signaling/src/main.ts',
        env: {
          SIGNALING_PORT: String(ports.signaling),
          REDIS_URL: redisUrl,
          AUTH_SECRET: secrets.auth,
          SFU_URL: `http://127.0.0.1:${ports.sfuRpc}`,
          SFU_RPC_SECRET: secrets.sfuRpc,
          WEB_ORIGINS: `http://localhost:${ports.web},http://127.0.0.1:${ports.web}`,
          TURN_URLS: turn.urls.join(','),
          TURN_SECRET: turn.secret,
        },
        health: `http://127.0.0.1:${ports.signaling}/healthz`,
      },
      {
        name: 'dicom-proxy',
        entry: 'dicom-proxy/src/main.ts',
        nodeFlags: dicomProxyNodeFlags,
        env: {
          DICOM_PROXY_PORT: String(ports.dicomProxy),
          DICOM_SOURCES: dicomSources,
          DICOM_CACHE_DIR: join(options.dataDir, 'dicom-cache'),
          REDIS_URL: redisUrl,
          AUTH_SECRET: secrets.auth,
        },
        health: `http://127.0.0.1:${ports.dicomProxy}/healthz`,
      },
      {
        name: 'web',
        entry: 'web/server.ts',
        env: {
          PORT: String(ports.web),
          HOST: '0.0.0.0',
          REDIS_URL: redisUrl,
          AUTH_SECRET: secrets.auth,
          SIGNALING_PORT: String(ports.signaling),
          DICOM_PROXY_URL: `http://127.0.0.1:${ports.dicomProxy}`,
        },
        health: `http://127.0.0.1:${ports.web}/healthz`,
      },
    ];

    for (const spec of specs) {
      const service = await startService(spec, { ...common, ...spec.env }, options.logs);
      services.push(service);
      await waitHealthy(service, spec.health);
    }

    return {
      ports,
      webUrl: `http://localhost:${ports.web}`,
      signalingUrl: `http://localhost:${ports.signaling}`,
      sfuRpcUrl: `http://127.0.0.1:${ports.sfuRpc}`,
      redisUrl,
      secrets,
      turnUrls: turn.urls,
      turnCertificateSpki: privateCoturn?.selfSignedCertificate ? privateCoturn.certificateSpki : null,
      logTails: (lines = 25) => logTails(services, lines),
      stop,
    };
  } catch (error) {
    const tails = await logTails(services, 30);
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${tails}`, { cause: error });
  }
}

export interface ThrowawayStack extends Stack {
  /**
   * Stops every service and the private Redis, then starts them again on the same ports with the
   * same data and secrets (needs `persistent`).
   */
  restart(): Promise<void>;
}

/**
 * The whole system on free ports, seeded with the demo data, everything it stores and logs in a
 * temporary folder that `stop` removes: for end-to-end tests and benchmarks.
 */
export async function launchThrowawayStack(
  options: {
    sfuWorkers?: number;
    env?: Record<string, string>;
    persistent?: boolean;
    privateTurn?: StackOptions['privateTurn'];
  } = {},
): Promise<ThrowawayStack> {
  const dir = await mkdtemp(join(tmpdir(), 'telemed-stack-'));
  const removeDir = () => rm(dir, { recursive: true, force: true });
  const settings = {
    dataDir: dir,
    persistent: options.persistent ?? false,
    seedDemo: true,
    logs: { dir: join(dir, 'logs') },
    ...(options.sfuWorkers ? { sfuWorkers: options.sfuWorkers } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.privateTurn ? { privateTurn: options.privateTurn } : {}),
  };
  let stack = await launchStack({ ports: 'free', ...settings }).catch(async (error: unknown) => {
    await removeDir();
    throw error;
  });
  const throwaway: ThrowawayStack = {
    ...stack,
    logTails: (lines) => stack.logTails(lines),
    async restart() {
      await stack.stop();
      stack = await launchStack({ ports: stack.ports, secrets: stack.secrets, ...settings });
    },
    async stop() {
      await stack.stop();
      await removeDir();
    },
  };
  return throwaway;
}

async function seed(redisUrl: string): Promise<void> {
  const logger = pino({ name: 'seed', level: 'warn' });
  const redis = await connectRedis(redisUrl, (error) => logger.error({ err: error }, 'redis error'));
  try {
    await seedDemo(redis, logger);
  } finally {
    await redis.close();
  }
}

async function startService(
  { name, entry, nodeFlags = [] }: { name: ServiceName; entry: string; nodeFlags?: string[] },
  env: Record<string, string>,
  logs: StackOptions['logs'],
): Promise<RunningService> {
  const child = spawn(process.execPath, [...nodeFlags, join(projectRoot, entry)], {
    cwd: projectRoot,
    env: { NODE_COMPILE_CACHE: nodeCompileCacheDir, ...process.env, ...env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  tieToLauncher(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let log: WriteStream | null = null;
  let logPath: string | null = null;
  if (logs === 'stdout') {
    const { prettyFactory } = await import('pino-pretty');
    const pretty = prettyFactory({
      colorize: process.stdout.isTTY,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname',
      singleLine: true,
    });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        const formatted = line.startsWith('{') ? pretty(line).trimEnd() : line;
        process.stdout.write(`${name.padEnd(11)} │ ${formatted}\n`);
      });
    }
  } else {
    await mkdir(logs.dir, { recursive: true });
    logPath = join(logs.dir, `${name}.log`);
    log = createWriteStream(logPath);
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
  }
  return { name, child, exited, log, logPath };
}

async function waitHealthy(service: RunningService, url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) {
      throw new Error(`${service.name} exited with code ${service.child.exitCode} while starting`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(150);
  }
  throw new Error(`${service.name} did not become healthy at ${url}`);
}

async function stopService(service: RunningService): Promise<void> {
  if (service.child.exitCode === null) {
    service.child.kill('SIGTERM');
    const killed = await Promise.race([service.exited.then(() => false), sleep(8000).then(() => true)]);
    if (killed) {
      service.child.kill('SIGKILL');
      await service.exited;
    }
  }
  service.log?.end();
}

/** The last lines of each service's log file, one section per service. */
async function logTails(services: RunningService[], lines: number): Promise<string> {
  const sections = await Promise.all(
    services.map(async ({ name, logPath }) => {
      const text = logPath ? await readFile(logPath, 'utf8').catch(() => '') : '';
      return `--- ${name}\n${text
        .split('\n')
        .slice(-lines - 1)
        .join('\n')}`;
    }),
  );
  return sections.join('\n');
}
