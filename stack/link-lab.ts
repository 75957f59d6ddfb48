import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { tieToLauncher } from './child-lifetime.ts';
import { startImpairmentRelay, type ImpairmentRelay } from './emulated-link.ts';
import {
  relayReplySchema,
  type RelayCommand,
  type RelayReply,
  type RelaySettings,
} from './impairment-relay-protocol.ts';
import type { IslandLinkProfile } from './island-link-profiles.ts';
import type { LinkProfile } from './link-schedule.ts';
import type { StackPorts } from './stack.ts';
import { projectRoot } from './stack.ts';

/**
 * The link lab: a remote site's own little network for the island-link tests and
 * `npm run bench:links`. A network namespace joined to this one by a veth pair; the site's
 * Chromium runs inside it (through a wrapper script that `ip netns exec`s the real binary,
 * which playwright drives over a pipe as usual), and so does the impairment relay
 * (stack/impairment-relay-main.ts), listening on the namespace's own 127.0.0.1 at the same
 * ports as the web, signaling and SFU (UDP and TCP) and carrying everything over the veth to the
 * servers in this namespace, shaped by the profile. So every URL and ICE candidate stays
 * `localhost`/127.0.0.1 and unchanged: the site cannot reach the servers any other way. The
 * SFU must also listen on the veth address (SFU_EXTRA_LISTEN_IPS); web and signaling listen on
 * every interface already. iptables inside the namespace plays the hospital firewall.
 *
 * Needs root. Names are unique per run (pid and a counter); `close` removes everything, an exit
 * handler does so if the run dies, and each new lab first sweeps labs whose process is gone.
 */

const run = promisify(execFile);
const NAMESPACE_PREFIX = 'telemed-lab-';

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

/** Why the lab cannot run here, or null when it can (root, `ip netns` and iptables working). */
export async function linkLabUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'the link lab needs root (ip netns, veth pairs, iptables); not root here';
  const probe = `${NAMESPACE_PREFIX}probe-${process.pid}`;
  try {
    await ip('netns', 'add', probe);
    await run('ip', ['netns', 'exec', probe, 'iptables', '-L', 'OUTPUT', '-n']);
    return null;
  } catch (error) {
    return `the link lab cannot create a network namespace with iptables here: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    await ip('netns', 'del', probe).catch(() => undefined);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the namespaces (and with them their veth pairs) of lab runs that died without cleaning up. */
export async function sweepLeftoverLabs(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  const removed: string[] = [];
  for (const line of stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const match = new RegExp(`^${NAMESPACE_PREFIX}(?:probe-)?(\\d+)`).exec(name);
    if (!match || processAlive(Number(match[1]))) continue;
    await ip('netns', 'del', name).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}

/** A stack's ports the island reaches: web, signaling, media, and TURN when the stack runs one. */
export type LabStackPorts = Pick<StackPorts, 'web' | 'signaling' | 'media'> & { turn?: number; turnTls?: number };

/**
 * The relay's forwards for a stack: web and signaling (TCP), each SFU worker's media port (UDP
 * and TCP), and TURN (UDP and TCP, and TLS) when there is one.
 */
export function stackForwards(
  ports: LabStackPorts,
  sfuWorkers: number,
  serverAddress: string,
): RelaySettings['forwards'] {
  const tcp = (port: number) => ({ protocol: 'tcp' as const, listenPort: port, target: { host: serverAddress, port } });
  const udp = (port: number) => ({ protocol: 'udp' as const, listenPort: port, target: { host: serverAddress, port } });
  const media = Array.from({ length: sfuWorkers }, (_, index) => ports.media + index);
  return [
    tcp(ports.web),
    tcp(ports.signaling),
    ...media.flatMap((port) => [udp(port), tcp(port)]),
    ...(ports.turn ? [udp(ports.turn), tcp(ports.turn)] : []),
    ...(ports.turnTls ? [tcp(ports.turnTls)] : []),
  ];
}

/**
 * Servers that listen on 127.0.0.1 only (the private coturn) are reached over the veth through
 * an unshaped relay here, on the veth address at the same ports.
 */
export function loopbackBridgeForwards(ports: Pick<LabStackPorts, 'turn' | 'turnTls'>): RelaySettings['forwards'] {
  const to = (protocol: 'tcp' | 'udp', port: number) => ({
    protocol,
    listenPort: port,
    target: { host: '127.0.0.1', port },
  });
  return [
    ...(ports.turn ? [to('udp', ports.turn), to('tcp', ports.turn)] : []),
    ...(ports.turnTls ? [to('tcp', ports.turnTls)] : []),
  ];
}

/** The impairment relay process inside the lab's namespace, driven over its stdin/stdout. */
class LabRelay {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: RelayReply) => void>();
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  readonly ready: Promise<void>;

  constructor(namespace: string, settings: RelaySettings) {
    this.child = spawn(
      'ip',
      // Above the browsers' priority: the relay stands for the network, which a busy test machine
      // must not slow down (its timers are the link's delays).
      [
        'netns',
        'exec',
        namespace,
        'nice',
        '-n',
        '-5',
        process.execPath,
        join(projectRoot, 'stack/impairment-relay-main.ts'),
        JSON.stringify(settings),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    tieToLauncher(this.child);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) =>
        reject(new Error(`the impairment relay exited with ${code} before it was ready`)),
      );
      createInterface({ input: this.child.stdout! }).on('line', (line) => {
        const reply = relayReplySchema.safeParse(JSON.parse(line));
        if (!reply.success) return;
        if (reply.data.reply === 'ready') resolve();
        else if (reply.data.id !== undefined) this.waiting.get(reply.data.id)?.(reply.data);
      });
    });
  }

  async send(
    command: RelayCommand extends infer C ? (C extends unknown ? Omit<C, 'id'> : never) : never,
  ): Promise<Extract<RelayReply, { reply: 'done' }>> {
    const id = this.nextId++;
    const reply = await new Promise<RelayReply>((resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin!.write(`${JSON.stringify({ ...command, id })}\n`);
    });
    this.waiting.delete(id);
    if (reply.reply !== 'done')
      throw new Error(`impairment relay: ${reply.reply === 'error' ? reply.message : reply.reply}`);
    return reply;
  }

  async stop(): Promise<void> {
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface LinkLab {
  namespace: string;
  /** This namespace's end of the veth pair: where the servers must (also) listen. */
  serverAddress: string;
  /** The site's end. */
  clientAddress: string;
  /** A Chromium that runs inside the lab (give it to playwright as `executablePath`). */
  chromiumPath: string;
  /** Starts the impairment relay in the lab (once the servers' ports are known). */
  startRelay(forwards: RelaySettings['forwards'], profile: LinkProfile, seed?: number): Promise<void>;
  /** Makes servers listening only on loopback reachable at the veth address (see `loopbackBridgeForwards`). */
  bridgeLoopback(forwards: RelaySettings['forwards']): Promise<void>;
  /** Puts a profile on the link: the relay's shaping and the site's firewall. */
  applyProfile(profile: IslandLinkProfile, frontPorts: number[]): Promise<void>;
  setLinkDown(down: boolean): Promise<void>;
  stats(): Promise<NonNullable<Extract<RelayReply, { reply: 'done' }>['stats']>>;
  close(): Promise<void>;
}

let labsOpened = 0;

/** Creates a lab network (namespace, veth pair, addresses, Chromium wrapper); the relay starts later. */
export async function createLinkLab(options: { chromium: string }): Promise<LinkLab> {
  await sweepLeftoverLabs();
  const number = labsOpened++;
  const namespace = `${NAMESPACE_PREFIX}${process.pid}-${number}`;
  // Interface names have at most 15 characters.
  const tag = (process.pid * 64 + (number % 64)).toString(36);
  const hostVeth = `tl${tag}h`;
  const clientVeth = `tl${tag}c`;
  // A /30 of its own in 10.200.0.0/13, chosen from the pid and counter.
  const block = (process.pid * 64 + number) % (8 * 256 * 64);
  const base = `10.${200 + Math.floor(block / (256 * 64))}.${Math.floor(block / 64) % 256}`;
  const serverAddress = `${base}.${(block % 64) * 4 + 1}`;
  const clientAddress = `${base}.${(block % 64) * 4 + 2}`;
  const inLab = (...args: string[]) => run('ip', ['netns', 'exec', namespace, ...args]);
  const wrapperDir = await mkdtemp(join(tmpdir(), 'telemed-lab-chromium-'));
  let relay: LabRelay | null = null;
  let bridge: ImpairmentRelay | null = null;

  // If the run dies without `close`, the namespace (and the veth pair with it) goes at exit.
  const removeAtExit = () => {
    try {
      execFileSync('ip', ['netns', 'del', namespace], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
  };
  process.once('exit', removeAtExit);

  const close = async () => {
    await relay?.stop();
    relay = null;
    await bridge?.close();
    bridge = null;
    await ip('netns', 'del', namespace).catch(() => undefined);
    process.off('exit', removeAtExit);
    await rm(wrapperDir, { recursive: true, force: true });
  };

  try {
    await ip('netns', 'add', namespace);
    await ip('link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', clientVeth, 'netns', namespace);
    await ip('addr', 'add', `${serverAddress}/30`, 'dev', hostVeth);
    await ip('link', 'set', hostVeth, 'up');
    await inLab('ip', 'addr', 'add', `${clientAddress}/30`, 'dev', clientVeth);
    await inLab('ip', 'link', 'set', clientVeth, 'up');
    await inLab('ip', 'link', 'set', 'lo', 'up');
    // A default route, as a hospital PC has one (browsers treat a host without one as offline).
    await inLab('ip', 'route', 'add', 'default', 'via', serverAddress);
    const chromiumPath = join(wrapperDir, 'chromium');
    await writeFile(chromiumPath, `#!/bin/sh\nexec ip netns exec '${namespace}' '${options.chromium}' "$@"\n`);
    await chmod(chromiumPath, 0o755);

    const requireRelay = () => {
      if (!relay) throw new Error('the link lab’s relay is not started');
      return relay;
    };
    return {
      namespace,
      serverAddress,
      clientAddress,
      chromiumPath,
      async startRelay(forwards, profile, seed) {
        relay = new LabRelay(namespace, { forwards, profile, ...(seed === undefined ? {} : { seed }) });
        await relay.ready;
      },
      async bridgeLoopback(forwards) {
        if (forwards.length === 0) return;
        bridge = await startImpairmentRelay({
          listenHost: serverAddress,
          forwards,
          profile: { name: 'loopback-bridge', roundTripMs: 0 },
        });
      },
      async applyProfile(profile, frontPorts) {
        await requireRelay().send({ command: 'reshape', profile: profile.link });
        await inLab('iptables', '-F', 'OUTPUT');
        if (profile.firewall !== 'open') {
          const accept = (...match: string[]) => inLab('iptables', '-A', 'OUTPUT', ...match, '-j', 'ACCEPT');
          // The relay's own legs over the veth are the WAN link itself, outside the firewall.
          await accept('-o', clientVeth);
          await accept('-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED');
          if (profile.firewall === 'udp-blocked') {
            await accept('-p', 'tcp');
          } else {
            await accept('-p', 'tcp', '--dport', '443');
            // Web and signaling: behind the hospital's HTTPS proxy on 443 in production.
            for (const port of frontPorts) await accept('-p', 'tcp', '--dport', String(port));
          }
          await inLab('iptables', '-A', 'OUTPUT', '-j', 'DROP');
        }
      },
      async setLinkDown(down) {
        await requireRelay().send({ command: 'link', down });
      },
      async stats() {
        const { stats } = await requireRelay().send({ command: 'stats' });
        if (!stats) throw new Error('the relay sent no statistics');
        return stats;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
