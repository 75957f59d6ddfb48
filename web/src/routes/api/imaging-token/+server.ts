import { error, json } from '@sveltejs/kit';
import { IMAGING_GRANT_MAX_STUDIES, mintAccessToken, type ImagingGrant } from '@telemed/contract/access-token';
import { mayShareStudies, readsCaseDeidentified, type Account, type Session } from '@telemed/domain';
import { webConfig } from '#lib/server/config.ts';
import { logger } from '#lib/server/domain.ts';
import { checkSessionEntry } from '#lib/server/session-entry.ts';
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

/** The session's studies, each once; a study shared in two cases is de-identified if either asks. */
function imagingGrant(account: Account, session: Session): ImagingGrant {
  const studies = new Map<string, boolean>();
  for (const sessionCase of session.cases) {
    const deidentify = readsCaseDeidentified(account, sessionCase);
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
    mayQuerySources: mayShareStudies(account, session),
  };
}

export const GET: RequestHandler = async ({ locals, url, setHeaders, getClientAddress }) => {
  const signedIn = locals.account;
  if (!signedIn) error(401, 'sign in first', { code: 'unauthenticated' });
  setHeaders({ 'cache-control': 'no-store' });
  const entry = await checkSessionEntry(signedIn, url.searchParams.get('sessionId'), {
    deniedAction: 'imaging.token-denied',
    ip: getClientAddress(),
  });
  // One answer whether the session exists or not: ids are not to be probed.
  if (!entry.allowed) error(403, 'forbidden', { code: 'forbidden' });
  const { account, session } = entry;
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
