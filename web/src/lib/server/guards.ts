import { redirect } from '@sveltejs/kit';
import type { SignedInAccount } from './signin.ts';

/** The signed-in account, or a redirect to the sign-in page that comes back here afterwards. */
export function requireAccount(locals: App.Locals, url: URL): SignedInAccount {
  if (!locals.account) redirect(303, `/login?next=${encodeURIComponent(url.pathname + url.search)}`);
  return locals.account;
}

/** Only same-site paths are followed after sign-in or a language switch (no open redirects). */
export function safeReturnPath(value: unknown, fallback: string): string {
  return typeof value === 'string' && /^\/(?![/\\])[^\s]*$/.test(value) ? value : fallback;
}
