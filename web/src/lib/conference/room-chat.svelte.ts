import { ContractError, chatTextProblem, type ChatMessage, type ChatTextProblem } from '@telemed/contract';
import type { SignalingRequest, SignalingSocket } from './signaling-socket.ts';

/**
 * The session's chat in one participant's browser, over the call's signaling socket: the history
 * on joining (and older pages on request), messages as they come, and sending with the
 * contract's own text rule checked first so the user is told what is wrong before anything
 * goes out. Messages stay plain text all the way: the panel renders them as text, never as
 * markup. Browser-only.
 */

export type ChatProblem =
  ChatTextProblem | 'rate_limited' | 'limit_reached' | 'unknown_study' | 'failed' | 'history_failed';

export class RoomChat {
  /** Oldest first. */
  messages = $state<ChatMessage[]>([]);
  hasEarlier = $state(false);
  problem = $state<ChatProblem | null>(null);
  sending = $state(false);
  /** Messages from others that arrived while the chat was not on screen. */
  unread = $state(0);

  private readonly request: SignalingRequest;
  private viewing = false;

  constructor(socket: SignalingSocket, request: SignalingRequest) {
    this.request = request;
    socket.on('chat:message', (message) => {
      this.merge([message]);
      if (!this.viewing) this.unread += 1;
    });
  }

  /** Once joined: the newest page (late joiners and reconnects see what was said). */
  async start(): Promise<void> {
    try {
      const page = await this.request('chat:history', {});
      this.merge(page.messages);
      this.hasEarlier = page.hasEarlier;
    } catch (error) {
      this.problem = 'history_failed';
      console.warn('the chat history could not be read', error);
    }
  }

  async loadEarlier(): Promise<void> {
    const first = this.messages[0];
    if (!first) return;
    try {
      const page = await this.request('chat:history', { beforeSeq: first.seq });
      this.merge(page.messages);
      this.hasEarlier = page.hasEarlier;
    } catch (error) {
      this.problem = 'history_failed';
      console.warn('earlier chat messages could not be read', error);
    }
  }

  /** Sends a message; true when it was stored (the draft can be cleared). */
  async send(text: string, studyInstanceUid: string | null): Promise<boolean> {
    const problem = chatTextProblem(text);
    this.problem = problem;
    if (problem || this.sending) return false;
    this.sending = true;
    try {
      const { message } = await this.request('chat:send', {
        text,
        ...(studyInstanceUid ? { studyInstanceUid } : {}),
      });
      this.merge([message]);
      return true;
    } catch (error) {
      this.problem = problemOf(error);
      return false;
    } finally {
      this.sending = false;
    }
  }

  /** Whether the chat is on screen (a message arriving then is read at once). */
  setViewing(viewing: boolean): void {
    this.viewing = viewing;
    if (viewing) this.unread = 0;
  }

  clearProblem(): void {
    this.problem = null;
  }

  /** Adds messages in `seq` order, once each (the same message may come by event and by page). */
  private merge(incoming: ChatMessage[]): void {
    const fresh = incoming.filter((message) => !this.messages.some((known) => known.seq === message.seq));
    if (fresh.length > 0) this.messages = [...this.messages, ...fresh].sort((a, b) => a.seq - b.seq);
  }
}

function problemOf(error: unknown): ChatProblem {
  if (!(error instanceof ContractError)) return 'failed';
  switch (error.code) {
    case 'rate_limited':
    case 'limit_reached':
      return error.code;
    case 'not_found':
      return 'unknown_study';
    default:
      return 'failed';
  }
}
