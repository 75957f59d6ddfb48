import type { Logger } from 'pino';
import {
  ContractError,
  type ConferenceResponses,
  type LobbyGuest,
  type conferenceRequestSchemas,
} from '@telemed/contract';
import type { RequestHandlers } from '@telemed/contract/server';
import { isInvited, mayAdmit, mayKnock, type Account, type Session } from '@telemed/domain';
import type { ConferenceDependencies, ConferenceSocket } from './conference-participant.ts';
import { recordForSocket, type SocketAuditEntry } from './socket-audit.ts';
import { ConnectionPart } from './connection-part.ts';

/**
 * The waiting-room requests of one connection: a guest knocks and waits, the host lists the
 * waiting guests and admits or rejects them. The host's sockets hear every change of the list
 * and the guest's sockets the host's decision, on every signaling node (each socket is in the
 * room `account:<accountId>`, shared through the Redis adapter).
 */

export type LobbyRequestName = 'lobby:knock' | 'lobby:withdraw' | 'lobby:admit' | 'lobby:reject' | 'lobby:list';
export type LobbyHandlers = Pick<
  RequestHandlers<typeof conferenceRequestSchemas, ConferenceResponses>,
  LobbyRequestName
>;

/** Every socket of an account, whichever node it is on. */
export const accountRoomOf = (accountId: string) => `account:${accountId}`;

/** The same answer for an unknown session and one that cannot be knocked on: ids are not to be probed. */
const NOT_OPEN = 'this session cannot be entered now';
const HOST_ONLY = 'only the host admits guests';

export class SessionLobby extends ConnectionPart {
  constructor(socket: ConferenceSocket, deps: ConferenceDependencies, log: Logger) {
    super(socket, deps, log);
    socket.data.knockedSessionIds = [];
  }

  /** Sessions this connection is waiting to enter. */
  get knockedSessionIds(): readonly string[] {
    return this.socket.data.knockedSessionIds;
  }

  /** The wait is over (decided, or the session ended); nothing is withdrawn. */
  forget(sessionId: string): void {
    this.socket.data.knockedSessionIds = this.socket.data.knockedSessionIds.filter((id) => id !== sessionId);
  }

  /** The account may no longer wait (deactivated): off the host's list at once. */
  async stopWaiting(sessionId: string): Promise<void> {
    this.forget(sessionId);
    await this.withdraw(sessionId, 'access-revoked');
  }

  handlers(): LobbyHandlers {
    const { admission, sites } = this.deps;
    return {
      'lobby:knock': async ({ sessionId }) => {
        const { account, session } = await this.load(sessionId);
        if (!account || !session || !mayKnock(account, session)) {
          const reason = !account?.active ? 'inactive' : !session ? 'unknown-session' : 'not-live';
          await this.audit({ action: 'conference.knocked', outcome: 'denied', sessionId, detail: { reason } });
          throw new ContractError('forbidden', NOT_OPEN);
        }
        // Invited accounts go straight in, unless the host removed them: then they wait like guests.
        if (isInvited(account, session) && !(await admission.standing(sessionId, account.id)).removed) {
          return { status: 'admitted' };
        }
        const site = await sites.get(account.siteId);
        const status = await admission.knock(session, {
          accountId: account.id,
          displayName: account.displayName,
          siteId: account.siteId,
          siteNameJa: site?.nameJa ?? account.siteId,
          siteNameEn: site?.nameEn ?? account.siteId,
        });
        if (status === 'admitted') return { status };
        if (!this.knockedSessionIds.includes(sessionId)) this.socket.data.knockedSessionIds.push(sessionId);
        await this.audit({
          action: 'conference.knocked',
          outcome: 'success',
          sessionId,
          target: `account:${account.id}`,
        });
        await this.tellHost(session);
        return { status };
      },
      'lobby:withdraw': async ({ sessionId }) => {
        this.forget(sessionId);
        await this.withdraw(sessionId, 'withdrawn');
        return {};
      },
      'lobby:admit': async ({ sessionId, accountId }) => this.decide(sessionId, accountId, 'admitted'),
      'lobby:reject': async ({ sessionId, accountId }) => this.decide(sessionId, accountId, 'rejected'),
      'lobby:list': async ({ sessionId }) => {
        const { account, session } = await this.load(sessionId);
        if (!account || !session || !mayAdmit(account, session)) throw new ContractError('forbidden', HOST_ONLY);
        return { waiting: await admission.waiting(sessionId) };
      },
    };
  }

  /**
   * The connection closed: its knocks are withdrawn unless another connection of the same
   * account (another tab, on any node) is waiting for the same session.
   */
  async withdrawAll(): Promise<void> {
    const sessionIds = [...this.knockedSessionIds];
    this.socket.data.knockedSessionIds = [];
    if (sessionIds.length === 0) return;
    const others = await this.socket.nsp.in(accountRoomOf(this.socket.data.account.accountId)).fetchSockets();
    for (const sessionId of sessionIds) {
      const stillWaiting = others.some(
        (other) => other.id !== this.socket.id && other.data.knockedSessionIds?.includes(sessionId),
      );
      if (!stillWaiting) await this.withdraw(sessionId, 'disconnected');
    }
  }

  private async decide(
    sessionId: string,
    guestId: string,
    decision: 'admitted' | 'rejected',
  ): Promise<{ waiting: LobbyGuest[] }> {
    const { admission } = this.deps;
    const action = decision === 'admitted' ? 'conference.admitted' : 'conference.rejected';
    const target = `account:${guestId}`;
    const { account, session } = await this.load(sessionId);
    if (!account || !session || !mayAdmit(account, session)) {
      await this.audit({ action, outcome: 'denied', sessionId, target });
      throw new ContractError('forbidden', HOST_ONLY);
    }
    const guest =
      decision === 'admitted' ? await admission.admit(session, guestId) : await admission.reject(sessionId, guestId);
    if (!guest) {
      await this.audit({ action, outcome: 'failure', sessionId, target, detail: { reason: 'not waiting' } });
      throw new ContractError('not_found', 'that account is not waiting');
    }
    await this.audit({ action, outcome: 'success', sessionId, target, detail: { displayName: guest.displayName } });
    this.socket.nsp.to(accountRoomOf(guestId)).emit('lobby:decision', { sessionId, decision });
    this.log.info({ sessionId, guestId, decision }, 'waiting guest decided');
    return { waiting: await this.tellHost(session) };
  }

  private async withdraw(sessionId: string, reason: 'withdrawn' | 'disconnected' | 'access-revoked'): Promise<void> {
    const { accountId } = this.socket.data.account;
    const removed = await this.deps.admission.withdraw(sessionId, accountId);
    if (!removed) return;
    await this.audit({
      action: 'conference.withdrew',
      outcome: 'success',
      sessionId,
      target: `account:${accountId}`,
      detail: { reason },
    });
    const session = await this.deps.sessions.get(sessionId);
    if (session) await this.tellHost(session);
  }

  /** Sends the current waiting list to the host's sockets; returns it. */
  private async tellHost(session: Session): Promise<LobbyGuest[]> {
    const waiting = await this.deps.admission.waiting(session.id);
    this.socket.nsp.to(accountRoomOf(session.hostAccountId)).emit('lobby:waiting', { sessionId: session.id, waiting });
    return waiting;
  }

  private async load(sessionId: string): Promise<{ account: Account | null; session: Session | null }> {
    const [account, session] = await Promise.all([
      this.deps.accounts.get(this.socket.data.account.accountId),
      this.deps.sessions.get(sessionId),
    ]);
    return { account, session };
  }

  private audit(entry: SocketAuditEntry): Promise<void> {
    return recordForSocket(this.deps.audit, this.socket, entry);
  }
}
