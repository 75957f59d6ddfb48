import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';

export interface MediaWorker {
  index: number;
  worker: types.Worker;
  /** All WebRTC media of this worker goes through this one UDP and one TCP port. */
  webRtcServer: types.WebRtcServer;
  routers: number;
}

export interface WorkerPoolOptions {
  size: number;
  listenIp: string;
  /** Further addresses listened on at the same port, announcing `announcedAddress` too. */
  extraListenIps?: string[];
  announcedAddress: string;
  /** Worker i listens on rtcPort + i. */
  rtcPort: number;
  logger: Logger;
  /** Called after a worker died and was replaced; its routers are gone. */
  onWorkerReplaced?: (index: number) => void;
}

/**
 * mediasoup workers, one per core, each with its WebRtcServer. A worker that dies is replaced
 * on the same ports so the media ports a hospital firewall was opened for stay the same.
 */
export class WorkerPool {
  private readonly workers: MediaWorker[] = [];
  private readonly options: WorkerPoolOptions;
  private closing = false;

  private constructor(options: WorkerPoolOptions) {
    this.options = options;
  }

  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    try {
      for (let index = 0; index < options.size; index++) {
        pool.workers.push(await pool.startWorker(index));
      }
    } catch (error) {
      pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** The worker with the fewest routers; the caller counts the router it adds. */
  leastLoaded(): MediaWorker {
    const alive = this.workers.filter((entry) => !entry.worker.closed);
    const best = alive.reduce<MediaWorker | undefined>(
      (min, entry) => (min === undefined || entry.routers < min.routers ? entry : min),
      undefined,
    );
    if (!best) throw new Error('no mediasoup worker is running');
    return best;
  }

  /** Process ids of the running workers (for operations and tests). */
  pids(): number[] {
    return this.workers.filter((entry) => !entry.worker.closed).map((entry) => entry.worker.pid);
  }

  ports(): { index: number; port: number }[] {
    return this.workers.map((entry) => ({ index: entry.index, port: this.options.rtcPort + entry.index }));
  }

  close(): void {
    this.closing = true;
    for (const entry of this.workers) entry.worker.close();
  }

  private async startWorker(index: number): Promise<MediaWorker> {
    const { logger, listenIp, extraListenIps = [], announcedAddress, rtcPort } = this.options;
    const worker = await mediasoup.createWorker({ logLevel: 'warn', appData: { index } });
    const port = rtcPort + index;
    const webRtcServer = await worker
      .createWebRtcServer({
        listenInfos: [listenIp, ...extraListenIps].flatMap((ip) => [
          { protocol: 'udp' as const, ip, announcedAddress, port },
          { protocol: 'tcp' as const, ip, announcedAddress, port },
        ]),
      })
      .catch((error: unknown) => {
        worker.close();
        throw new Error(`media port ${port} (UDP/TCP) is not available`, { cause: error });
      });
    const entry: MediaWorker = { index, worker, webRtcServer, routers: 0 };
    worker.on('died', (error) => {
      logger.error({ err: error, worker: index, pid: worker.pid }, 'mediasoup worker died');
      if (!this.closing) void this.replace(index);
    });
    logger.info({ worker: index, pid: worker.pid, port }, 'mediasoup worker ready');
    return entry;
  }

  private async replace(index: number): Promise<void> {
    try {
      const entry = await this.startWorker(index);
      this.workers[this.workers.findIndex((candidate) => candidate.index === index)] = entry;
      this.options.onWorkerReplaced?.(index);
    } catch (error) {
      this.options.logger.error({ err: error, worker: index }, 'could not replace mediasoup worker');
    }
  }
}
