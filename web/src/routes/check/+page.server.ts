import { requireAccount } from '#lib/server/guards.ts';
import { signalingUrl } from '#lib/server/signaling-url.ts';
import type { PageServerLoad } from './$types';

/** The pre-call check on its own: a doctor before any session, or IT staff checking a PC. */
export const load: PageServerLoad = ({ locals, url }) => {
  requireAccount(locals, url);
  return { signalingUrl: signalingUrl(url) };
};
