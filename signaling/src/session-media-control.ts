import {
  ContractError,
  type ConferenceResponses,
  type ConsumerQuality,
  type ProducerInfo,
  type SessionMediaReport,
  type conferenceRequestSchemas,
} from '@telemed/contract';
import type { RequestHandlers } from '@telemed/contract/server';
import { mayManageCallMedia } from '@telemed/domain';
import { requireSeat, type SessionSeat } from './conference-participant.ts';
import { recordForSocket, type SocketAuditEntry } from './socket-audit.ts';
import { SeatedConnectionPart } from './connection-part.ts';

/**
 * The media controls of one connection in a session: its consumers paused and resumed as its
 * tiles come and go, their simulcast layers chosen by tile size, their quality passed on from
 * the SFU; screen shares let in under the session's policy (one at a time unless the host
 * allows more), which the host sets; and the host's view of everyone's media statistics.
 */

export type MediaControlRequestName =
  | 'consumer:pause'
  | 'consumer:layers'
  | 'screenShare:policy'
  | 'screenShare:setPolicy'
  | 'session:media-stats'
  | 'link:level'
  | 'link:downlink';
export type MediaControlHandlers = Pick<
  RequestHandlers<typeof conferenceRequestSchemas, ConferenceResponses>,
  MediaControlRequestName
>;

const HOST_ONLY = 'only the host runs the call’s media';
/** A host's panel asking more often than this gets the last report again (each costs the SFU ~100 calls). */
const REPORT_REUSE_MS = 1_000;

export class SessionMediaControl extends SeatedConnectionPart {
  private lastReport: { sessionId: string; at: number; report: SessionMediaReport } | null = null;

  handlers(): MediaControlHandlers {
    const { sfu, screenShares } = this.deps;
    return {
      'consumer:pause': async ({ consumerId }) => {
        await sfu.request('consumer:pause', { ...this.ref(), consumerId });
        return {};
      },
      'consumer:layers': async (layers) => {
        await sfu.request('consumer:layers', { ...this.ref(), ...layers });
        return {};
      },
      'screenShare:policy': async () => screenShares.policy(this.requireSeat().sessionId),
      'screenShare:setPolicy': async (policy) => {
        const seat = this.requireSeat();
        await this.requireHost(seat, 'conference.screen-share-policy');
        await screenShares.setPolicy(seat.sessionId, policy);
        await this.audit({
          action: 'conference.screen-share-policy',
          outcome: 'success',
          target: `session:${seat.sessionId}`,
          sessionId: seat.sessionId,
          detail: { allowMultiple: policy.allowMultiple },
        });
        this.socket.nsp.to(seat.room).emit('screenShare:policy', policy);
        this.log.info({ sessionId: seat.sessionId, ...policy }, 'screen-share policy changed');
        return policy;
      },
      'session:media-stats': async () => {
        const seat = this.requireSeat();
        await this.requireHost(seat, 'conference.media-stats');
        const last = this.lastReport;
        if (last?.sessionId === seat.sessionId && Date.now() - last.at < REPORT_REUSE_MS) return last.report;
        const [stats, paths] = await Promise.all([
          sfu.request('session:media', { sessionId: seat.sessionId, detail: true }),
          this.deps.transportPaths.of(seat.sessionId),
        ]);
        const report: SessionMediaReport = {
          measuredAt: new Date().toISOString(),
          participants: (stats.participantMedia ?? []).map((media) => ({
            ...media,
            transportPaths: paths.get(media.participantId) ?? { send: null, recv: null },
          })),
          consumers: stats.consumers,
          pausedConsumers: stats.pausedConsumers,
        };
        this.lastReport = { sessionId: seat.sessionId, at: Date.now(), report };
        return report;
      },
      // The own receive transport only (the SFU checks it is this participant's): every 3 s from each browser.
      'link:downlink': async () => sfu.request('participant:downlink', this.ref()),
      'link:level': async ({ level }) => {
        const seat = this.requireSeat();
        // Told only on a change (the browser's policy holds each level for several samples).
        const previous = await this.deps.presence.setLinkLevel(seat.sessionId, seat.participant.participantId, level);
        if (previous === null || previous === level) return {};
        this.socket.to(seat.room).emit('participant:link', { participantId: seat.participant.participantId, level });
        this.log.info(
          { sessionId: seat.sessionId, participantId: seat.participant.participantId, level },
          'link level',
        );
        return {};
      },
    };
  }

  /**
   * Records a new producer in the session's presence. A shared screen gets in only under the
   * session's policy, and its sound only with it; a refused one is closed again at the SFU.
   */
  async publish(producer: ProducerInfo): Promise<void> {
    const seat = this.requireSeat();
    const { presence, screenShares, sfu } = this.deps;
    let refusal: string | null = null;
    if (producer.source === 'screen') {
      if (!(await screenShares.putIfAllowed(seat.sessionId, producer))) {
        refusal = 'someone else is sharing a screen; the host allows one at a time';
      }
    } else if (producer.source === 'screen-audio') {
      const own = await presence.producers(seat.sessionId);
      const sharing = own.some(
        (one) => one.participantId === seat.participant.participantId && one.source === 'screen',
      );
      if (sharing) await presence.putProducer(seat.sessionId, producer);
      else refusal = 'share a screen before its sound';
    } else {
      await presence.putProducer(seat.sessionId, producer);
    }
    if (refusal) {
      await sfu
        .request('producer:close', { ...this.ref(), producerId: producer.producerId })
        .catch((error: unknown) => this.log.warn({ err: error }, 'could not close a refused producer'));
      throw new ContractError('conflict', refusal);
    }
    if (producer.source === 'screen') await this.auditScreenShare('conference.screen-share-started', producer);
  }

  /** The participant stopped a producer: a screen share's end is kept in the audit trail. */
  async unpublished(producer: ProducerInfo): Promise<void> {
    if (producer.source === 'screen') await this.auditScreenShare('conference.screen-share-stopped', producer);
  }

  notifyConsumerQuality(quality: ConsumerQuality): void {
    this.socket.emit('consumer:quality', quality);
  }

  private async auditScreenShare(action: string, producer: ProducerInfo): Promise<void> {
    const { sessionId } = this.requireSeat();
    await this.audit({
      action,
      outcome: 'success',
      target: `session:${sessionId}`,
      sessionId,
      detail: { participantId: producer.participantId, producerId: producer.producerId },
    });
  }

  /** The host of the session, as the stored records say now; anyone else is refused (and audited). */
  private async requireHost(seat: SessionSeat, deniedAction: string): Promise<void> {
    const [account, session] = await Promise.all([
      this.deps.accounts.get(this.socket.data.account.accountId),
      this.deps.sessions.get(seat.sessionId),
    ]);
    if (account && session && mayManageCallMedia(account, session)) return;
    await this.audit({
      action: deniedAction,
      outcome: 'denied',
      target: `session:${seat.sessionId}`,
      sessionId: seat.sessionId,
    });
    throw new ContractError('forbidden', HOST_ONLY);
  }

  private requireSeat(): SessionSeat {
    return requireSeat(this.seat());
  }

  private ref(): { sessionId: string; participantId: string } {
    const { sessionId, participant } = this.requireSeat();
    return { sessionId, participantId: participant.participantId };
  }

  private audit(entry: SocketAuditEntry): Promise<void> {
    return recordForSocket(this.deps.audit, this.socket, entry);
  }
}
