import { error } from '@sveltejs/kit';
import { calendarFeedTokenSchema } from '@telemed/domain';
import { FEED_DAYS_BACK, FEED_REFRESH_MINUTES, calendarResponse } from '#lib/calendar/calendar-file.server.ts';
import { webDomain } from '#lib/server/domain.ts';
import type { RequestHandler } from './$types';

/**
 * An account's personal calendar feed: calendar apps cannot sign in, so the secret token in the
 * address is the credential. Every session the account hosts or is invited to, from
 * FEED_DAYS_BACK days ago on, cancelled ones included so subscribers remove them.
 *
 * Fetches are not audited: calendar apps poll every few minutes to hours, which would flood the
 * never-trimmed audit stream; issuing and revoking the address are audited instead.
 */
export const GET: RequestHandler = async ({ params, url }) => {
  const token = calendarFeedTokenSchema.safeParse(params.token);
  const { calendarFeeds, accounts, sessions } = await webDomain();
  const accountId = token.success ? await calendarFeeds.accountId(token.data) : null;
  const account = accountId ? await accounts.get(accountId) : null;
  if (!account?.active) error(404, 'not found', { code: 'not_found' });
  const since = Date.now() - FEED_DAYS_BACK * 86_400_000;
  const listed = (await sessions.listFor(account)).filter((session) => Date.parse(session.endsAt) >= since);
  return calendarResponse(listed, {
    origin: url.origin,
    filename: 'island-telemed.ics',
    attachment: false,
    refreshMinutes: FEED_REFRESH_MINUTES,
  });
};
