import { createHmac } from 'node:crypto';
import type { IceServer } from '@telemed/contract';

/**
 * Short-lived TURN credentials in the TURN REST API format coturn checks with `use-auth-secret`
 * (draft-uberti-behave-turn-rest-00): the username is `<expiry unix seconds>:<user id>`, the
 * password base64(HMAC-SHA1(shared secret, username)). coturn recomputes the HMAC and refuses a
 * username whose expiry has passed, so signaling mints them without telling coturn anything.
 * Hand-written: it is one HMAC, and no kept library covers the TURN REST API's format.
 *
 * The user id names the account and the session (or the pre-call probe) it was issued for, so
 * coturn's log of an allocation says who relayed in which call. The credential is a password:
 * it never goes into a log or the audit (only its username and expiry do).
 */

export interface TurnSettings {
  /** `turn:` / `turns:` URLs browsers are given. */
  urls: string[];
  /** coturn's `static-auth-secret`. */
  secret: string;
  /** How long a credential stays valid, in seconds. */
  lifetimeSeconds: number;
}

export interface TurnCredentials {
  username: string;
  credential: string;
  /** When coturn stops accepting it for new allocations (UTC, unix seconds). */
  expiresAt: number;
}

/** What a credential is for: an account in a session, or an account's pre-call connectivity probe. */
export type TurnCredentialPurpose = { sessionId: string } | { probe: true };

/** The user id part: characters coturn accepts in a username, and no `:` beyond the one separator. */
export function turnUserId(accountId: string, purpose: TurnCredentialPurpose): string {
  return 'sessionId' in purpose ? `${accountId}.session.${purpose.sessionId}` : `${accountId}.probe`;
}

export function turnCredentialFor(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

export function mintTurnCredentials(
  settings: Pick<TurnSettings, 'secret' | 'lifetimeSeconds'>,
  userId: string,
  now: Date = new Date(),
): TurnCredentials {
  const expiresAt = Math.floor(now.getTime() / 1000) + settings.lifetimeSeconds;
  const username = `${expiresAt}:${userId}`;
  return { username, credential: turnCredentialFor(settings.secret, username), expiresAt };
}

/** The ICE servers of one peer connection: every TURN URL with one fresh credential. */
export function turnIceServers(
  settings: TurnSettings,
  accountId: string,
  purpose: TurnCredentialPurpose,
  now?: Date,
): { iceServers: IceServer[]; credentials: TurnCredentials } {
  const credentials = mintTurnCredentials(settings, turnUserId(accountId, purpose), now);
  return {
    iceServers: [{ urls: settings.urls, username: credentials.username, credential: credentials.credential }],
    credentials,
  };
}

/** Only the `turns:` URLs: what a relay-only TURN/TLS probe or call may use. */
export function tlsOnly(iceServers: IceServer[]): IceServer[] {
  return iceServers
    .map((server) => ({
      ...server,
      urls: (Array.isArray(server.urls) ? server.urls : [server.urls]).filter((url) => url.startsWith('turns:')),
    }))
    .filter((server) => server.urls.length > 0);
}
