import type { AuditEntry, AuditLog } from '@telemed/domain';
import type { SocketAccount } from './conference-participant.ts';

/** What an audit entry of a socket's request needs besides the actor, its site and address. */
export type SocketAuditEntry = Omit<AuditEntry, 'actorAccountId' | 'siteId' | 'ip'>;

/** Records what a connected account did (or was refused), as that account, from its address. */
export function recordForSocket(
  audit: AuditLog,
  socket: { data: { account: SocketAccount }; handshake: { address: string } },
  entry: SocketAuditEntry,
): Promise<void> {
  const { account } = socket.data;
  return audit.record({
    ...entry,
    actorAccountId: account.accountId,
    siteId: account.siteId,
    ip: socket.handshake.address,
  });
}
