import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A user-space emulated WAN link for TCP, for benchmarks and link tests: a relay that listens on a
 * local port and forwards to a target (e.g. a PACS), holding every chunk back by the time the
 * link's rate needs to carry it plus the one-way delay. All connections through one relay share
 * the link's capacity in each direction, as they would share a hospital's line.
 *
 * Written by hand: this kernel has no `netem` (only rate qdiscs, which need root and namespaces),
 * and the npm relays that exist proxy without shaping. UDP and loss come with the link tests.
 */

export interface LinkProfile {
  /** A short name for reports, e.g. `hospital-100M`. */
  name: string;
  /** Capacity of each direction. */
  bitsPerSecond: number;
  /** Round-trip time added by the link (half each way). */
  roundTripMs: number;
}

/** Regional medical network links the benchmarks use. */
export const linkProfiles = {
  /** A remote hospital on a 100 Mbit/s regional VPN, 20 ms from the hub. */
  hospitalVpn: { name: 'hospital-vpn-100M', bitsPerSecond: 100e6, roundTripMs: 20 },
} as const satisfies Record<string, LinkProfile>;

/**
 * When each chunk leaves one direction of a link: serialised one after another at the link's
 * rate, then delayed by the one-way time. Pure (the clock is passed in), so it is tested exactly.
 */
export class LinkDirectionSchedule {
  private lineFreeAt = 0;
  private readonly msPerByte: number;
  private readonly oneWayMs: number;

  constructor(profile: LinkProfile) {
    this.msPerByte = 8_000 / profile.bitsPerSecond;
    this.oneWayMs = profile.roundTripMs / 2;
  }

  /** The time (ms, same clock as `now`) at which a chunk of `bytes` sent at `now` arrives. */
  arrival(now: number, bytes: number): number {
    this.lineFreeAt = Math.max(now, this.lineFreeAt) + bytes * this.msPerByte;
    return this.lineFreeAt + this.oneWayMs;
  }
}

/** Chunks waiting for their arrival time on one connection in one direction. */
class DelayedPipe {
  private readonly queue: { at: number; chunk: Buffer }[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  private readonly from: Socket;
  private readonly to: Socket;
  private readonly schedule: LinkDirectionSchedule;
  private readonly maxQueuedBytes: number;

  constructor(from: Socket, to: Socket, schedule: LinkDirectionSchedule, maxQueuedBytes: number) {
    this.from = from;
    this.to = to;
    this.schedule = schedule;
    this.maxQueuedBytes = maxQueuedBytes;
    from.on('data', (chunk: Buffer) => this.accept(chunk));
    from.on('end', () => {
      this.ended = true;
      this.flush();
    });
    to.on('drain', () => this.flush());
  }

  private accept(chunk: Buffer): void {
    this.queue.push({ at: this.schedule.arrival(performance.now(), chunk.length), chunk });
    this.queuedBytes += chunk.length;
    // The link's buffer is full: the sender waits, as TCP would make it over a real line.
    if (this.queuedBytes > this.maxQueuedBytes) this.from.pause();
    this.flush();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0]!.at <= now) {
      if (this.to.writableNeedDrain || this.to.destroyed) return; // 'drain' calls again
      const { chunk } = this.queue.shift()!;
      this.queuedBytes -= chunk.length;
      this.to.write(chunk);
    }
    if (this.queuedBytes <= this.maxQueuedBytes && this.from.isPaused()) this.from.resume();
    if (this.queue.length > 0) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, this.queue[0]!.at - now));
    } else if (this.ended) {
      this.to.end();
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }
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
  const host = options.host ?? '127.0.0.1';
  let down = false;
  const upstream = new LinkDirectionSchedule(options.profile);
  const downstream = new LinkDirectionSchedule(options.profile);
  // The bottleneck's buffer: one bandwidth-delay product plus headroom (a router's queue).
  const bufferBytes = Math.max(
    256 * 1024,
    (options.profile.bitsPerSecond / 8) * (options.profile.roundTripMs / 1000) * 2,
  );
  const sockets = new Set<Socket>();
  // Half-open allowed both ways: one side's end is carried over the link, not taken as a hang-up.
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    if (down) {
      client.destroy();
      return;
    }
    const target = connect({ port: options.target.port, host: options.target.host, allowHalfOpen: true });
    client.setNoDelay(true);
    target.setNoDelay(true);
    for (const socket of [client, target]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    const toTarget = new DelayedPipe(client, target, upstream, bufferBytes);
    const toClient = new DelayedPipe(target, client, downstream, bufferBytes);
    const teardown = () => {
      toTarget.stop();
      toClient.stop();
      client.destroy();
      target.destroy();
    };
    client.on('error', teardown);
    target.on('error', teardown);
    client.on('close', (hadError) => hadError && teardown());
    target.on('close', (hadError) => hadError && teardown());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  return {
    host,
    port: options.port,
    profile: options.profile,
    cut() {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      down = false;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
