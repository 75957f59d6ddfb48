import { error, json } from '@sveltejs/kit';
import { sessionIdSchema } from '@telemed/contract';
import { IMAGING_GRANT_MAX_STUDIES, mintAccessToken, type ImagingGrant } from '@telemed/contract/access-token';
import { SessionAdmission, isInvited, joinRefusal, type Account, type Session } from '@telemed/domain';
import { webConfig } from '#lib/server/config.ts';
import { logger, webDomain } from '#lib/server/domain.ts';
import type { RequestHandler } from './$types';

/**
 * The DICOM proxy's token for one session: `GET /api/imaging-token?sessionId=<uuid>`. Issued only
 * while the account may be in the room (live, and invited or admitted); it names the studies of
 * the session's cases, each de-identified for readers outside the patient's site when the case
 * asks for it. Short-lived: the viewer fetches a new one before it expires, so leaving or being
 * removed from a session ends image access within minutes without the proxy asking Redis.
 */

/** Seconds an imaging token is valid. */
const TOKEN_TTL_SECONDS = 300;

/** Host, coordinators and admins may search the sources (the study browser). */
const mayQuerySources = (account: Account, session: Session) =>
  session.hostAccountId === account.id || account.roles.some((role) => role === 'coordinator' || role === 'admin');

/** The session's studies, each once; a study shared in two cases is de-identified if either asks. */
function imagingGrant(account: Account, session: Session): ImagingGrant {
  const studies = new Map<string, boolean>();
  for (const sessionCase of session.cases) {
    const deidentify = sessionCase.deidentifyOutsidePatientSite && account.siteId !== sessionCase.patientSiteId;
    for (const uid of sessionCase.studyInstanceUids) studies.set(uid, (studies.get(uid) ?? false) || deidentify);
  }
  // The token travels in a header: a session with more studies than fit shares the first ones.
  if (studies.size > IMAGING_GRANT_MAX_STUDIES) {
    logger.warn({ sessionId: session.id, studies: studies.size }, 'more studies than one imaging token names');
  }
  return {
    sessionId: session.id,
    studies: [...studies]
      .slice(0, IMAGING_GRANT_MAX_STUDIES)
      .map(([studyInstanceUid, deidentify]) => ({ studyInstanceUid, deidentify })),
    mayQuerySources: mayQuerySources(account, session),
  };
}

export const GET: RequestHandler = async ({ locals, url, setHeaders, getClientAddress }) => {
  const signedIn = locals.account;
  if (!signedIn) error(401, 'sign in first', { code: 'unauthenticated' });
  setHeaders({ 'cache-control': 'no-store' });
  const { accounts, sessions, audit, redis } = await webDomain();
  const parsed = sessionIdSchema.safeParse(url.searchParams.get('sessionId'));
  const id = parsed.success ? parsed.data : null;
  const [account, session] = await Promise.all([accounts.get(signedIn.id), id ? sessions.get(id) : null]);
  const admitted =
    account && session && !isInvited(account, session)
      ? await new SessionAdmission(redis, logger).isAdmitted(session.id, account.id)
      : false;
  const reason = !account ? 'inactive' : !session ? 'unknown-session' : joinRefusal(account, session, { admitted });
  if (!account || !session || reason) {
    await audit.record({
      action: 'imaging.token-denied',
      actorAccountId: signedIn.id,
      outcome: 'denied',
      ...(id ? { target: `session:${id}`, sessionId: id } : {}),
      siteId: signedIn.siteId,
      ip: getClientAddress(),
      detail: { reason },
    });
    // One answer whether the session exists or not: ids are not to be probed.
    error(403, 'forbidden', { code: 'forbidden' });
  }
  const token = await mintAccessToken(
    {
      sub: account.id,
      name: account.displayName,
      siteId: account.siteId,
      roles: account.roles,
      imaging: imagingGrant(account, session),
    },
    { secret: webConfig().AUTH_SECRET, audience: 'dicom-proxy', ttlSeconds: TOKEN_TTL_SECONDS },
  );
  return json({ token, expiresIn: TOKEN_TTL_SECONDS });
};
