import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { LinkDirection, type DropReason, type LinkProfile, type RandomSource } from './link-schedule.ts';

/**
 * A user-space emulated WAN link for benchmarks and the link lab: a relay that listens on local
 * ports (TCP and UDP) and forwards each to a target, carrying every chunk and datagram at the
 * times stack/link-schedule.ts decides — the link's rate, one-way delay and jitter, random or
 * bursty loss, and outages (`setLinkDown`). All traffic through one relay shares the link's
 * capacity in each direction, as it would share a hospital's line.
 *
 * TCP cannot lose bytes: a "lost" chunk arrives one round trip late (the retransmission) and
 * holds up its connection behind it; while the link is down a connection's bytes are held and
 * sent once it is back (a stall, as TCP's retransmissions would bridge it). New TCP connections
 * are accepted locally even while the link is down (their bytes wait like the others'): a real
 * outage would hold the handshake instead, which the endpoints see the same way, as silence.
 * UDP datagrams are lost, dropped at a full bottleneck queue, dropped while the link is down,
 * and may be reordered by jitter. Each UDP client address gets its own upstream socket, so the
 * target sees as many peers as there are clients; a pair unused for `udpIdleMs` is closed.
 *
 * Written by hand: this kernel has no `netem` (only rate qdiscs), and the npm relays proxy
 * without shaping.
 */

export type { LinkProfile } from './link-schedule.ts';

/** Regional medical network links the benchmarks use. */
export const linkProfiles = {
  /** A remote hospital on a 100 Mbit/s regional VPN, 20 ms from the hub. */
  hospitalVpn: { name: 'hospital-vpn-100M', bitsPerSecond: 100e6, roundTripMs: 20 },
} as const satisfies Record<string, LinkProfile>;

/** IPv4 + UDP headers: what a datagram costs on the line beyond its payload. */
const UDP_OVERHEAD_BYTES = 28;

/** Both directions of one link, and whatever waits for it to come back. */
class Link {
  readonly up: LinkDirection;
  readonly down: LinkDirection;
  private isDown = false;
  private readonly waiting = new Set<{ hold(): void; release(): void }>();

  constructor(profile: LinkProfile, random: RandomSource) {
    this.up = new LinkDirection(profile, random);
    this.down = new LinkDirection(profile, random);
  }

  get linkDown(): boolean {
    return this.isDown;
  }

  setDown(down: boolean): void {
    if (down === this.isDown) return;
    this.isDown = down;
    this.up.down = down;
    this.down.down = down;
    for (const pipe of this.waiting) {
      if (down) pipe.hold();
      else pipe.release();
    }
  }

  watch(pipe: { hold(): void; release(): void }): () => void {
    this.waiting.add(pipe);
    return () => this.waiting.delete(pipe);
  }
}

/** What crossed the link, per direction (`up`: client → target). */
export interface LinkCounters {
  packets: number;
  bytes: number;
  dropped: Record<DropReason, number>;
}

export interface RelayStats {
  up: LinkCounters;
  down: LinkCounters;
  tcpConnections: number;
  udpPeers: number;
  linkDown: boolean;
}

const emptyCounters = (): LinkCounters => ({
  packets: 0,
  bytes: 0,
  dropped: { loss: 0, 'queue-full': 0, 'link-down': 0 },
});

/** Chunks waiting for their arrival time on one TCP connection in one direction. */
class DelayedPipe {
  private readonly queue: { at: number; chunk: Buffer }[] = [];
  /** Chunks sent while the link was down, or on the line when it went down. */
  private held: Buffer[] = [];
  private queuedBytes = 0;
  private lastArrival = 0;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  private readonly from: Socket;
  private readonly to: Socket;
  private readonly direction: LinkDirection;
  private readonly counters: LinkCounters;
  private readonly maxQueuedBytes: number;

  constructor(from: Socket, to: Socket, direction: LinkDirection, counters: LinkCounters, maxQueuedBytes: number) {
    this.from = from;
    this.to = to;
    this.direction = direction;
    this.counters = counters;
    this.maxQueuedBytes = maxQueuedBytes;
    from.on('data', (chunk: Buffer) => this.accept(chunk));
    from.on('end', () => {
      this.ended = true;
      this.flush();
    });
    to.on('drain', () => this.flush());
  }

  private accept(chunk: Buffer): void {
    this.queuedBytes += chunk.length;
    if (this.direction.down) this.held.push(chunk);
    else this.schedule(chunk, performance.now());
    // The link's buffer is full: the sender waits, as TCP would make it over a real line.
    if (this.queuedBytes > this.maxQueuedBytes) this.from.pause();
    this.flush();
  }

  private schedule(chunk: Buffer, now: number): void {
    this.lastArrival = this.direction.streamChunk(now, chunk.length, this.lastArrival);
    this.queue.push({ at: this.lastArrival, chunk });
  }

  /** The link went down: nothing more arrives; what was on the line is sent again later. */
  hold(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.held = [...this.queue.map(({ chunk }) => chunk), ...this.held];
    this.queue.length = 0;
  }

  /** The link is back: the held chunks go out, in order. */
  release(): void {
    const now = performance.now();
    for (const chunk of this.held) this.schedule(chunk, now);
    this.held = [];
    this.flush();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.direction.down) return; // `release` flushes
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0]!.at <= now) {
      if (this.to.writableNeedDrain || this.to.destroyed) return; // 'drain' calls again
      const { chunk } = this.queue.shift()!;
      this.queuedBytes -= chunk.length;
      this.counters.packets += 1;
      this.counters.bytes += chunk.length;
      this.to.write(chunk);
    }
    if (this.queuedBytes <= this.maxQueuedBytes && this.from.isPaused()) this.from.resume();
    if (this.queue.length > 0) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, this.queue[0]!.at - now));
    } else if (this.ended && this.held.length === 0) {
      this.to.end();
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
    this.held = [];
  }
}

/** One port the relay listens on, and where its traffic goes. */
export interface RelayForward {
  protocol: 'tcp' | 'udp';
  listenPort: number;
  target: { host: string; port: number };
}

export interface ImpairmentRelay {
  listenHost: string;
  profile: LinkProfile;
  /** Changes the shaping from now on (e.g. a link that gets worse during a test). */
  reshape(profile: LinkProfile): void;
  /** An outage: everything dropped (UDP) or held (TCP) until it is set back up. */
  setLinkDown(down: boolean): void;
  /**
   * A harsher outage: the link goes down and every TCP connection through it is cut (both ends
   * see it close, as after a reset); new ones are closed at once until `restore`.
   */
  cut(): void;
  restore(): void;
  stats(): RelayStats;
  close(): Promise<void>;
}

/** Starts a relay listening on `listenHost` (default 127.0.0.1) at each forward's port. */
export async function startImpairmentRelay(options: {
  listenHost?: string;
  forwards: RelayForward[];
  profile: LinkProfile;
  random?: RandomSource;
  /** A UDP client's upstream socket is closed after this long without traffic. Default 30 s. */
  udpIdleMs?: number;
}): Promise<ImpairmentRelay> {
  const listenHost = options.listenHost ?? '127.0.0.1';
  let profile = options.profile;
  const link = new Link(profile, options.random ?? Math.random);
  const counters = { up: emptyCounters(), down: emptyCounters() };
  const tcpSockets = new Set<Socket>();
  const servers: Server[] = [];
  const udpForwards: UdpForward[] = [];
  let refusing = false;
  // The bottleneck's buffer for streams: one bandwidth-delay product plus headroom (a router's queue).
  const bufferBytes = Math.max(
    256 * 1024,
    ((profile.bitsPerSecond ?? 1e9) / 8) * (Math.max(profile.roundTripMs, 1) / 1000) * 2,
  );

  const closeAll = async () => {
    for (const socket of tcpSockets) socket.destroy();
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    await Promise.all(udpForwards.map((forward) => forward.close()));
  };

  try {
    for (const forward of options.forwards) {
      if (forward.protocol === 'udp') {
        udpForwards.push(await startUdpForward(listenHost, forward, link, counters, options.udpIdleMs ?? 30_000));
        continue;
      }
      // Half-open allowed both ways: one side's end is carried over the link, not taken as a hang-up.
      const server: Server = createServer({ allowHalfOpen: true }, (client) => {
        if (refusing) {
          client.destroy();
          return;
        }
        const target = connect({ port: forward.target.port, host: forward.target.host, allowHalfOpen: true });
        client.setNoDelay(true);
        target.setNoDelay(true);
        for (const socket of [client, target]) {
          tcpSockets.add(socket);
          socket.on('close', () => tcpSockets.delete(socket));
        }
        const toTarget = new DelayedPipe(client, target, link.up, counters.up, bufferBytes);
        const toClient = new DelayedPipe(target, client, link.down, counters.down, bufferBytes);
        const unwatch = [link.watch(toTarget), link.watch(toClient)];
        const teardown = () => {
          for (const stop of unwatch) stop();
          toTarget.stop();
          toClient.stop();
          client.destroy();
          target.destroy();
        };
        for (const socket of [client, target]) {
          socket.on('error', teardown);
          socket.on('close', (hadError) => {
            if (hadError) teardown();
            else for (const stop of unwatch) stop();
          });
        }
      });
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(forward.listenPort, listenHost, () => resolve());
      });
    }
  } catch (error) {
    await closeAll();
    throw error;
  }

  return {
    listenHost,
    get profile() {
      return profile;
    },
    reshape(next) {
      profile = next;
      link.up.reshape(next);
      link.down.reshape(next);
    },
    setLinkDown: (down) => link.setDown(down),
    cut() {
      refusing = true;
      link.setDown(true);
      for (const socket of tcpSockets) socket.destroy();
    },
    restore() {
      refusing = false;
      link.setDown(false);
    },
    stats: () => ({
      up: structuredClone(counters.up),
      down: structuredClone(counters.down),
      tcpConnections: tcpSockets.size / 2,
      udpPeers: udpForwards.reduce((sum, forward) => sum + forward.peers(), 0),
      linkDown: link.linkDown,
    }),
    close: closeAll,
  };
}

interface UdpForward {
  peers(): number;
  close(): Promise<void>;
}

/** A UDP port of the relay: one upstream socket per client address, so the target sees distinct peers. */
async function startUdpForward(
  listenHost: string,
  forward: RelayForward,
  link: Link,
  counters: { up: LinkCounters; down: LinkCounters },
  idleMs: number,
): Promise<UdpForward> {
  const server = createSocket('udp4');
  const peers = new Map<string, { upstream: UdpSocket; lastActive: number }>();
  const timers = new Set<NodeJS.Timeout>();

  /** Carries one datagram over `direction`, then hands it to `deliver` (unless lost on the way). */
  const carry = (direction: LinkDirection, count: LinkCounters, message: Buffer, deliver: () => void) => {
    const now = performance.now();
    const fate = direction.datagram(now, message.length + UDP_OVERHEAD_BYTES);
    if ('dropped' in fate) {
      count.dropped[fate.dropped] += 1;
      return;
    }
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        // The link went down while it was on the way.
        if (direction.down) {
          count.dropped['link-down'] += 1;
          return;
        }
        count.packets += 1;
        count.bytes += message.length;
        deliver();
      },
      Math.max(0, fate.arrival - now),
    );
    timers.add(timer);
  };

  const peerFor = (client: RemoteInfo) => {
    const key = `${client.address}:${client.port}`;
    let peer = peers.get(key);
    if (!peer) {
      const upstream = createSocket('udp4');
      upstream.bind(0);
      upstream.on('error', () => undefined);
      upstream.on('message', (reply, from) => {
        if (from.port !== forward.target.port) return;
        const entry = peers.get(key);
        if (entry) entry.lastActive = performance.now();
        carry(link.down, counters.down, reply, () => server.send(reply, client.port, client.address));
      });
      peer = { upstream, lastActive: performance.now() };
      peers.set(key, peer);
    }
    peer.lastActive = performance.now();
    return peer;
  };

  server.on('message', (message, client) => {
    const { upstream } = peerFor(client);
    carry(link.up, counters.up, message, () => {
      // Closed by the idle sweep meanwhile: the datagram is lost, as at an expired NAT binding.
      try {
        upstream.send(message, forward.target.port, forward.target.host);
      } catch {
        counters.up.dropped.loss += 1;
      }
    });
  });
  server.on('error', () => undefined);

  const sweep = setInterval(
    () => {
      const now = performance.now();
      for (const [key, peer] of peers) {
        if (now - peer.lastActive > idleMs) {
          peer.upstream.close();
          peers.delete(key);
        }
      }
    },
    Math.max(100, idleMs / 4),
  );
  sweep.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.bind(forward.listenPort, listenHost, () => resolve());
  });

  return {
    peers: () => peers.size,
    async close() {
      clearInterval(sweep);
      for (const timer of timers) clearTimeout(timer);
      for (const { upstream } of peers.values()) upstream.close();
      peers.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface EmulatedLink {
  /** Where to connect instead of the target. */
  host: string;
  port: number;
  profile: LinkProfile;
  /**
   * The link goes down: every connection through it is cut (both ends see it close, as after a
   * reset) and new ones are closed at once, until `restore`. For outage tests.
   */
  cut(): void;
  restore(): void;
  /** A quieter outage: the link goes silent, connections stay open and their bytes wait for it. */
  setLinkDown(down: boolean): void;
  close(): Promise<void>;
}

/**
 * Starts a relay on `port` (of `host`, 127.0.0.1 unless given: another loopback address such as
 * 127.0.0.2 gives one test browser a link of its own) that carries TCP to `target` over `profile`.
 */
export async function startEmulatedLink(options: {
  port: number;
  host?: string;
  target: { host: string; port: number };
  profile: LinkProfile;
}): Promise<EmulatedLink> {
  const relay = await startImpairmentRelay({
    ...(options.host ? { listenHost: options.host } : {}),
    forwards: [{ protocol: 'tcp', listenPort: options.port, target: options.target }],
    profile: options.profile,
  });
  return {
    host: relay.listenHost,
    port: options.port,
    profile: options.profile,
    cut: relay.cut,
    restore: relay.restore,
    setLinkDown: relay.setLinkDown,
    close: relay.close,
  };
}
