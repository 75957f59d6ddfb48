import type { Logger } from 'pino';
import type { SessionMediaStats } from '@telemed/contract/sfu-rpc';
import { routerMediaCodecs } from './media-codecs.ts';
import { SessionRouter, type SessionRouterEvents } from './session-router.ts';
import type { WorkerPool } from './worker-pool.ts';

export interface SessionRoutersOptions {
  pool: WorkerPool;
  /** A router with nobody in it is closed after this long. */
  idleMs: number;
  initialOutgoingBitrate: number;
  /** Per-session events, given the session id. */
  events: (sessionId: string) => SessionRouterEvents;
  logger: Logger;
}

/**
 * The Router of every session that has (or just had) someone in it, created on the least-loaded
 * worker on first use and closed once it has been empty for `idleMs`.
 */
export class SessionRouters {
  private readonly routers = new Map<string, Promise<SessionRouter>>();
  private readonly idleTimers = new Map<string, NodeJS.Timeout>();
  private readonly options: SessionRoutersOptions;

  constructor(options: SessionRoutersOptions) {
    this.options = options;
  }

  /** The session's router, created if needed (concurrent callers share one creation). */
  async get(sessionId: string): Promise<SessionRouter> {
    let pending = this.routers.get(sessionId);
    if (!pending) {
      pending = this.create(sessionId);
      this.routers.set(sessionId, pending);
      pending.catch(() => this.routers.delete(sessionId));
    }
    const router = await pending;
    if (router.closed) {
      // Its worker died or it idled out while we waited: start afresh.
      if (this.routers.get(sessionId) === pending) this.routers.delete(sessionId);
      return this.get(sessionId);
    }
    this.scheduleIdleClose(router);
    return router;
  }

  /** The session's router if it exists; never creates one. */
  async find(sessionId: string): Promise<SessionRouter | null> {
    return (await this.routers.get(sessionId)?.catch(() => null)) ?? null;
  }

  /** Call after participants left: starts the idle countdown when the router is empty. */
  scheduleIdleClose(router: SessionRouter): void {
    clearTimeout(this.idleTimers.get(router.sessionId));
    this.idleTimers.delete(router.sessionId);
    if (router.participantCount > 0) return;
    const timer = setTimeout(() => {
      this.idleTimers.delete(router.sessionId);
      if (router.participantCount === 0) {
        this.options.logger.info({ sessionId: router.sessionId }, 'closing idle session router');
        router.closeRouter();
      }
    }, this.options.idleMs);
    timer.unref();
    this.idleTimers.set(router.sessionId, timer);
  }

  async all(): Promise<SessionRouter[]> {
    const settled = await Promise.allSettled(this.routers.values());
    return settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  }

  async stats(sessionId: string, options: { detail?: boolean | undefined } = {}): Promise<SessionMediaStats> {
    const router = await this.find(sessionId);
    if (!router || router.closed) {
      return {
        sessionId,
        routerOpen: false,
        participants: 0,
        transports: 0,
        producers: 0,
        consumers: 0,
        pausedConsumers: 0,
        ...(options.detail ? { participantMedia: [] } : {}),
      };
    }
    return router.stats(options);
  }

  private async create(sessionId: string): Promise<SessionRouter> {
    const worker = this.options.pool.leastLoaded();
    const router = await worker.worker.createRouter({ mediaCodecs: routerMediaCodecs, appData: { sessionId } });
    worker.routers++;
    const sessionRouter = new SessionRouter({
      sessionId,
      router,
      webRtcServer: worker.webRtcServer,
      initialOutgoingBitrate: this.options.initialOutgoingBitrate,
      events: this.options.events(sessionId),
      logger: this.options.logger.child({ sessionId }),
    });
    router.observer.on('close', () => {
      worker.routers--;
      clearTimeout(this.idleTimers.get(sessionId));
      this.idleTimers.delete(sessionId);
      // Only forget the entry if it is still this router (a new one may have replaced it).
      void this.routers.get(sessionId)?.then((current) => {
        if (current === sessionRouter) this.routers.delete(sessionId);
      });
    });
    await sessionRouter.start();
    this.options.logger.info({ sessionId, worker: worker.index }, 'session router created');
    return sessionRouter;
  }
}
