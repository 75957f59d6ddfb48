import type { IncomingHttpHeaders } from 'node:http';
import { AccessTokenError, verifyAccessToken, type ImagingGrant } from '@telemed/contract/access-token';

/**
 * Who is asking the proxy, and for what: every DICOMweb request carries
 * `Authorization: Bearer <token>`, a short-lived token the web server minted for one account in
 * one session (contract/src/access-token.ts, audience `dicom-proxy`). Checked here by signature
 * and expiry only — no Redis on the hot path; the token lives a few minutes and the viewer
 * fetches a fresh one from the web server, which is where the session rules are applied.
 *
 * For the front:
 *   const access = await authorizeImagingRequest(request.headers, secret);  // throws ImagingAccessError → 401
 *   const grant = access.studyGrant(studyInstanceUid);                       // null → 403 (and audit image.denied)
 *   if (grant?.deidentify) … serve through deidentification.ts
 *   access.mayQuerySources                                                   // searches beyond the shared studies
 *   access.actor                                                             // account/site/session for image-audit.ts
 */

/** The request carries no usable token: the front answers 401 with `WWW-Authenticate: Bearer`. */
export class ImagingAccessError extends Error {
  readonly status = 401;
  readonly reason: 'missing' | 'invalid' | 'expired';
  constructor(reason: ImagingAccessError['reason']) {
    super(`imaging access token ${reason}`);
    this.name = 'ImagingAccessError';
    this.reason = reason;
  }
}

/** Who the audit records: the account, its site, and the session the token was issued for. */
export interface ImagingActor {
  accountId: string;
  siteId: string;
  sessionId: string;
}

export interface StudyGrant {
  studyInstanceUid: string;
  /** Serve this study only de-identified (the reader is outside the patient's care). */
  deidentify: boolean;
}

export interface ImagingAccess {
  readonly actor: ImagingActor;
  /** The shared studies, in the order the web server listed them. */
  readonly studies: readonly StudyGrant[];
  readonly mayQuerySources: boolean;
  /** Token expiry, seconds since the epoch (the front may cap cache lifetimes by it). */
  readonly expiresAt: number;
  /** The grant for one study, or null when it is not shared with this token (→ 403). */
  studyGrant(studyInstanceUid: string): StudyGrant | null;
}

const BEARER = /^Bearer[ \t]+([A-Za-z0-9_\-.]{1,4096})[ \t]*$/i;

/** Reads and verifies the bearer token; throws `ImagingAccessError` (401) when there is none that is good. */
export async function authorizeImagingRequest(headers: IncomingHttpHeaders, secret: string): Promise<ImagingAccess> {
  const header = headers.authorization;
  if (typeof header !== 'string' || header.trim() === '') throw new ImagingAccessError('missing');
  const token = BEARER.exec(header)?.[1];
  if (!token) throw new ImagingAccessError('invalid');
  let verified;
  try {
    verified = await verifyAccessToken(token, { secret, audience: 'dicom-proxy' });
  } catch (error) {
    if (error instanceof AccessTokenError && error.message.endsWith('expired')) throw new ImagingAccessError('expired');
    throw new ImagingAccessError('invalid');
  }
  // The contract guarantees a grant for this audience; checked again so a change there fails closed.
  if (!verified.imaging) throw new ImagingAccessError('invalid');
  return imagingAccess(verified.sub, verified.siteId, verified.exp, verified.imaging);
}

function imagingAccess(accountId: string, siteId: string, expiresAt: number, grant: ImagingGrant): ImagingAccess {
  const studies = grant.studies.map((study) => ({ ...study }));
  const byUid = new Map(studies.map((study) => [study.studyInstanceUid, study]));
  return {
    actor: { accountId, siteId, sessionId: grant.sessionId },
    studies,
    mayQuerySources: grant.mayQuerySources,
    expiresAt,
    studyGrant: (studyInstanceUid) => byUid.get(studyInstanceUid) ?? null,
  };
}
