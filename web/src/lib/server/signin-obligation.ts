import { json, type RequestEvent } from '@sveltejs/kit';
import type { ApiErrorBody } from './api/api-response.ts';
import type { SigninObligation } from './signin.ts';

/**
 * An account that must change its password (after an admin's reset) or set up its second
 * factor (where required) may do only that until it has: pages send it there, and API calls
 * are refused with 403.
 */

const obligationPage: Record<SigninObligation, string> = {
  'change-password': '/account/password',
  'enrol-totp': '/account/security',
};

export const obligationMessage: Record<SigninObligation, string> = {
  'change-password': 'the password must be changed first: sign in on the web and choose a new one',
  'enrol-totp': 'a second factor (TOTP) must be enrolled first: sign in on the web and set it up',
};

/** Paths open to an account with an obligation (prefixes, whole path segments). */
const openPaths = ['/account/password', '/account/security', '/logout', '/language', '/healthz', '/api/v1/auth'];

const isOpen = (pathname: string) => openPaths.some((path) => pathname === path || pathname.startsWith(`${path}/`));

/** The refusal or redirect for a signed-in request while `obligation` is pending, or null. */
export function obligationResponse(event: RequestEvent, obligation: SigninObligation | null): Response | null {
  if (!obligation || isOpen(event.url.pathname)) return null;
  if (event.url.pathname === '/api' || event.url.pathname.startsWith('/api/')) {
    const body: ApiErrorBody = { error: { code: 'forbidden', message: obligationMessage[obligation] } };
    return json(body, { status: 403, headers: { 'cache-control': 'no-store' } });
  }
  const next = event.request.method === 'GET' ? event.url.pathname + event.url.search : '/sessions';
  const location = `${obligationPage[obligation]}?next=${encodeURIComponent(next)}`;
  return new Response(null, { status: 303, headers: { location } });
}
