import type { Handle, HandleServerError } from '@sveltejs/kit/hooks';
import { LANGUAGE_COOKIE, toLanguage } from '#lib/i18n.ts';
import { logger } from '#lib/server/domain.ts';
import { accountFromCookie } from '#lib/server/signin.ts';
import { obligationResponse } from '#lib/server/signin-obligation.ts';
import { signalingConnectSources } from '#lib/server/signaling-url.ts';

export const handle: Handle = async ({ event, resolve }) => {
  const language = toLanguage(event.cookies.get(LANGUAGE_COOKIE));
  event.locals.language = language;
  event.locals.account = event.url.pathname === '/healthz' ? null : await accountFromCookie(event.cookies);
  const obligation = obligationResponse(event, event.locals.account?.obligation ?? null);
  if (obligation) return obligation;

  const response = await resolve(event, {
    transformPageChunk: ({ html }) => html.replace('%lang%', language),
  });
  if (response.headers.get('content-type')?.startsWith('text/html')) {
    // A second policy: browsers enforce both, so connections are limited to this origin and
    // signaling (the build-time policy cannot know signaling's host).
    response.headers.append('content-security-policy', `connect-src 'self' ${signalingConnectSources(event.url)}`);
    response.headers.set('x-content-type-options', 'nosniff');
    response.headers.set('referrer-policy', 'same-origin');
    response.headers.set('permissions-policy', 'camera=(self), microphone=(self), display-capture=(self)');
  }
  return response;
};

/** The path as it may be logged: a calendar feed's path is its secret, so that part is left out. */
const loggablePath = (url: URL) => url.pathname.replace(/^\/calendar\/[^/]+/, '/calendar/<feed token>');

/** Unexpected failures are logged; the browser gets SvelteKit's generic message, no details. */
export const handleError: HandleServerError = ({ kind, error, event }) => {
  if (kind === 'unknown') logger.error({ err: error, path: loggablePath(event.url) }, 'request failed');
};
