import { execFile, spawn } from 'node:child_process';
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { access, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { tieToLauncher } from './child-lifetime.ts';
import { freeMediaPorts } from './free-port.ts';

const TURNSERVER_BIN = 'turnserver';
const run = promisify(execFile);

/**
 * A coturn (Debian's `turnserver`) of the project's own: the TURN server browsers behind strict
 * hospital firewalls relay their media through when no TURN server is configured. TURN over UDP
 * and TCP on one port, TURN over TLS on another (443 when this process may bind it), credentials
 * from the TURN REST API shared secret (`use-auth-secret`: signaling mints short-lived ones, see
 * signaling/src/turn-credentials.ts), a self-signed certificate made once with openssl.
 */
export interface PrivateCoturn {
  /** Where it listens (loopback unless told otherwise). */
  host: string;
  /** TURN over UDP and TCP. */
  port: number;
  /** TURN over TLS. */
  tlsPort: number;
  realm: string;
  /** The TURN REST API shared secret (`static-auth-secret`). */
  secret: string;
  /** `turn:` (UDP and TCP) and `turns:` URLs, as RTCPeerConnection and signaling take them. */
  urls: string[];
  /** coturn's own log (its allocations, by TURN username; never a password). */
  logFile: string;
  /**
   * SHA-256 of the TLS certificate's public key (base64): Chromium checks a TURN server's
   * certificate like a web site's, so a self-signed one is refused unless pinned with
   * `--ignore-certificate-errors-spki-list` (the e2e browsers do; hospital PCs need a real one).
   */
  certificateSpki: string;
  /** Whether the certificate is the self-signed one made here (no browser trusts it by itself). */
  selfSignedCertificate: boolean;
  stop(): Promise<void>;
}

export interface PrivateCoturnOptions {
  /** Its certificate, key, database, pid and log file go here. */
  dir: string;
  /** TURN over UDP and TCP. */
  port: number;
  /**
   * TURN over TLS: a port, or `prefer-443` for 443 when it can be bound (root, or the
   * capability), else a free port — `onNotice` says which.
   */
  tlsPort: number | 'prefer-443';
  secret: string;
  realm?: string;
  /** Listening (and relay) address; loopback by default: the SFU is on loopback in development. */
  listenAddress?: string;
  /** The address browsers are told (coturn's `external-ip`) when it differs from the listening one. */
  externalAddress?: string;
  /** Relay ports: `count` consecutive ones from `first` (UDP), picked free when absent. */
  relayPorts?: { first: number; count: number };
  /** A certificate (PEM files) for the TLS listener; a self-signed one is made when absent. */
  certificate?: { cert: string; key: string };
  onNotice?: (message: string) => void;
}

/** Whether TCP `port` can be listened on at `host` by this process right now. */
function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * A STUN Binding request (RFC 8489 §5: type 0x0001, no attributes, magic cookie, random
 * transaction id) answered with a Binding success: the server is up and serving, not only bound.
 * Hand-written: twenty bytes do not warrant a STUN library.
 */
function answersStunBinding(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0);
    request.writeUInt16BE(0, 2);
    request.writeUInt32BE(0x2112a442, 4);
    const transactionId = randomBytes(12);
    transactionId.copy(request, 8);
    const done = (answered: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(answered);
    };
    const timer = setTimeout(() => done(false), 300);
    socket.once('error', () => done(false));
    socket.on('message', (message) => {
      if (message.length >= 20 && message.readUInt16BE(0) === 0x0101 && message.subarray(8, 20).equals(transactionId))
        done(true);
    });
    socket.send(request, port, host);
  });
}

function acceptsTcp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A self-signed certificate for the TLS listener, made once and kept in `dir`. */
export async function ensureTurnCertificate(dir: string, commonName: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'turn-cert.pem');
  const key = join(dir, 'turn-key.pem');
  const exists = await Promise.all([access(cert), access(key)]).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '3650',
      '-subj',
      `/CN=${commonName}`,
      '-keyout',
      key,
      '-out',
      cert,
    ]);
  }
  return { cert, key };
}

/** `host` as it goes into a URL (IPv6 in brackets). */
function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function startPrivateCoturn(options: PrivateCoturnOptions): Promise<PrivateCoturn> {
  const host = options.listenAddress ?? '127.0.0.1';
  const realm = options.realm ?? 'telemed';
  await mkdir(options.dir, { recursive: true });
  let tlsPort: number;
  if (options.tlsPort === 'prefer-443') {
    if (await canListen(host, 443)) {
      tlsPort = 443;
    } else {
      tlsPort = await freeMediaPorts(1);
      options.onNotice?.(
        `TURN over TLS listens on port ${tlsPort}, not 443 (this process may not bind 443, or something else does); ` +
          'firewalls that only let 443 out need a TURN server on 443',
      );
    }
  } else {
    tlsPort = options.tlsPort;
  }
  // Another TURN server on the port (Debian's coturn service, say) would answer the readiness
  // check below in this one's place.
  if (!(await canListen(host, options.port))) {
    throw new Error(`port ${options.port} on ${host} is taken (a system coturn?): the private coturn needs it`);
  }
  const relayPorts = options.relayPorts ?? { first: await freeMediaPorts(32), count: 32 };
  const { cert, key } = options.certificate ?? (await ensureTurnCertificate(options.dir, realm));
  const certificateSpki = createHash('sha256')
    .update(new X509Certificate(await readFile(cert)).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');
  if (!options.certificate) {
    options.onNotice?.(
      'TURN over TLS uses a self-signed certificate, which browsers refuse; give coturn a certificate for ' +
        "this server's name (TURN_TLS_CERT, TURN_TLS_KEY) for sites that can only reach it over TLS",
    );
  }
  const logFile = join(options.dir, 'turnserver.log');
  const args = [
    '-n', // no configuration file: everything is on this command line
    '--listening-ip',
    host,
    '--relay-ip',
    host,
    ...(options.externalAddress ? ['--external-ip', `${options.externalAddress}/${host}`] : []),
    '--listening-port',
    String(options.port),
    '--tls-listening-port',
    String(tlsPort),
    '--min-port',
    String(relayPorts.first),
    '--max-port',
    String(relayPorts.first + relayPorts.count - 1),
    '--use-auth-secret',
    '--static-auth-secret',
    options.secret,
    '--realm',
    realm,
    '--fingerprint',
    '--cert',
    cert,
    '--pkey',
    key,
    '--no-tlsv1',
    '--no-tlsv1_1',
    // DTLS is not a transport browsers speak to TURN servers.
    '--no-dtls',
    '--no-cli',
    '--no-software-attribute',
    '--no-multicast-peers',
    // In development the SFU's WebRtcServer is on 127.0.0.1: the relay must be allowed to reach it.
    '--allow-loopback-peers',
    '--db',
    join(options.dir, 'turndb'),
    '--pidfile',
    join(options.dir, 'turnserver.pid'),
    '--log-file',
    logFile,
    '--simple-log',
    '--no-stdout-log',
  ];
  const child = spawn(TURNSERVER_BIN, args, { stdio: 'ignore', detached: true });
  tieToLauncher(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined);
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if ((await answersStunBinding(host, options.port)) && (await acceptsTcp(host, tlsPort))) {
      const at = `${urlHost(options.externalAddress ?? host)}`;
      return {
        host,
        port: options.port,
        tlsPort,
        realm,
        secret: options.secret,
        logFile,
        certificateSpki,
        selfSignedCertificate: !options.certificate,
        urls: [
          `turn:${at}:${options.port}?transport=udp`,
          `turn:${at}:${options.port}?transport=tcp`,
          `turns:${at}:${tlsPort}?transport=tcp`,
        ],
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
    `coturn did not start on ports ${options.port}/${tlsPort} (is the coturn package installed, are the ports free? see ${logFile})`,
  );
}

/** A throwaway private coturn on free ports with a random secret, for a test file; `stop` removes its files. */
export async function startTestCoturn(): Promise<PrivateCoturn> {
  const dir = await mkdtemp(join(tmpdir(), 'telemed-coturn-'));
  try {
    const coturn = await startPrivateCoturn({
      dir,
      port: await freeMediaPorts(1),
      tlsPort: await freeMediaPorts(1),
      secret: randomBytes(24).toString('base64url'),
    });
    return {
      ...coturn,
      async stop() {
        await coturn.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
