import {
  CHAT_HISTORY_PAGE_SIZE,
  CHAT_MAX_MESSAGES_PER_SESSION,
  CHAT_RATE_LIMIT,
  ContractError,
  type ConferenceResponses,
  type conferenceRequestSchemas,
} from '@telemed/contract';
import type { RequestHandlers } from '@telemed/contract/server';
import { ChatRefusal, isSessionStudy, mayPostInChat } from '@telemed/domain';
import { requireSeat } from './conference-participant.ts';
import { recordForSocket } from './socket-audit.ts';
import { SeatedConnectionPart } from './connection-part.ts';

/**
 * The chat requests of one connection in a session: a message is stored with the session
 * (SessionChatLog, limits applied there), then sent to everyone else in the room; history pages
 * for late joiners and reconnects.
 *
 * Auditing: the chat itself is the record of what was said (kept for good, with account, site
 * and time of every message, exported with the session); the audit trail gets one
 * `chat.posted` entry per account and session, the first time it writes, rather than one per
 * message, which would drown the trail's other entries. Neither the audit trail nor the logs
 * ever get a message's text: it is patient-related.
 */

export type ChatRequestName = 'chat:send' | 'chat:history';
export type ChatHandlers = Pick<RequestHandlers<typeof conferenceRequestSchemas, ConferenceResponses>, ChatRequestName>;

export class SessionChat extends SeatedConnectionPart {
  handlers(): ChatHandlers {
    return {
      'chat:send': async ({ text, studyInstanceUid }) => {
        const seat = requireSeat(this.seat());
        const { sessionId, participant } = seat;
        const [account, session] = await Promise.all([
          this.deps.accounts.get(participant.accountId),
          studyInstanceUid ? this.deps.sessions.get(sessionId) : null,
        ]);
        if (!account || !mayPostInChat(account))
          throw new ContractError('forbidden', 'this account may not write here');
        if (studyInstanceUid && (!session || !isSessionStudy(session, studyInstanceUid))) {
          throw new ContractError('not_found', 'that study is not one of this session’s cases');
        }
        const record = {
          participantId: participant.participantId,
          accountId: participant.accountId,
          displayName: participant.displayName,
          siteId: participant.siteId,
          siteNameJa: participant.siteNameJa,
          siteNameEn: participant.siteNameEn,
          text,
          studyInstanceUid: studyInstanceUid ?? null,
          sentAt: new Date().toISOString(),
        };
        let stored;
        try {
          stored = await this.deps.chat.append(sessionId, record, {
            maxMessages: CHAT_MAX_MESSAGES_PER_SESSION,
            rate: CHAT_RATE_LIMIT,
          });
        } catch (error) {
          if (!(error instanceof ChatRefusal)) throw error;
          if (error.reason === 'full') {
            this.log.warn({ sessionId }, 'chat full; message refused');
            throw new ContractError(
              'limit_reached',
              `this session’s chat holds ${CHAT_MAX_MESSAGES_PER_SESSION} messages`,
            );
          }
          throw new ContractError('rate_limited', 'too many messages in a short time; wait a moment');
        }
        const { message, firstFromAccount } = stored;
        this.socket.to(seat.room).emit('chat:message', message);
        if (firstFromAccount) {
          await recordForSocket(this.deps.audit, this.socket, {
            action: 'chat.posted',
            outcome: 'success',
            target: `session:${sessionId}`,
            sessionId,
            detail: { participantId: participant.participantId, firstSeq: message.seq },
          });
        }
        return { message };
      },
      'chat:history': async ({ beforeSeq }) => {
        const { sessionId } = requireSeat(this.seat());
        return this.deps.chat.page(sessionId, { beforeSeq, size: CHAT_HISTORY_PAGE_SIZE });
      },
    };
  }
}
