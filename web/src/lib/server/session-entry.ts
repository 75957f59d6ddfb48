import { sessionIdSchema } from '@telemed/contract';
import { SessionAdmission, joinRefusal, type Account, type Session } from '@telemed/domain';
import { auditAs } from './actor.ts';
import { logger, webDomain } from './domain.ts';

/**
 * Whether the signed-in account may be in a session right now (the room page, the imaging token):
 * live, and invited or admitted from the waiting room, and not removed by the host. A refusal is audited under `deniedAction`
 * with its reason; the caller answers every refusal the same way, so ids cannot be probed.
 */
export type SessionEntry =
  | { allowed: true; account: Account; session: Session }
  | { allowed: false; sessionId: string | null; account: Account | null; session: Session | null; admitted: boolean };

export async function checkSessionEntry(
  signedIn: { id: string; siteId: string },
  rawSessionId: string | null,
  audit: { deniedAction: string; ip: string; detail?: Record<string, unknown> },
): Promise<SessionEntry> {
  const { accounts, sessions, redis } = await webDomain();
  const parsed = sessionIdSchema.safeParse(rawSessionId);
  const sessionId = parsed.success ? parsed.data : null;
  const [account, session] = await Promise.all([accounts.get(signedIn.id), sessionId ? sessions.get(sessionId) : null]);
  const standing =
    account && session
      ? await new SessionAdmission(redis, logger).standing(session.id, account.id)
      : { admitted: false, removed: false };
  const reason = !account ? 'inactive' : !session ? 'unknown-session' : joinRefusal(account, session, standing);
  if (account && session && !reason) return { allowed: true, account, session };
  await auditAs(
    { account: signedIn, ip: audit.ip },
    {
      action: audit.deniedAction,
      outcome: 'denied',
      ...(sessionId ? { target: `session:${sessionId}`, sessionId } : {}),
      detail: { reason, ...audit.detail },
    },
  );
  return { allowed: false, sessionId, account, session, admitted: standing.admitted };
}
