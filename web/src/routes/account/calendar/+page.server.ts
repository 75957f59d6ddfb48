import { feedUrl } from '#lib/calendar/calendar-file.server.ts';
import { webDomain } from '#lib/server/domain.ts';
import { requireAccount } from '#lib/server/guards.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
  const signedIn = requireAccount(locals, url);
  const { calendarFeeds } = await webDomain();
  return { feed: await calendarFeeds.status(signedIn.id) };
};

export const actions: Actions = {
  /** A new feed address (the first, or one replacing the old): shown once, in this answer. */
  issue: async ({ locals, url, getClientAddress }) => {
    const signedIn = requireAccount(locals, url);
    const { calendarFeeds, audit } = await webDomain();
    const issued = await calendarFeeds.issue(signedIn.id);
    await audit.record({
      action: issued.replaced ? 'calendar-feed.renewed' : 'calendar-feed.issued',
      actorAccountId: signedIn.id,
      target: `account:${signedIn.id}`,
      siteId: signedIn.siteId,
      ip: getClientAddress(),
    });
    return { feedUrl: feedUrl(url.origin, issued.token) };
  },

  revoke: async ({ locals, url, getClientAddress }) => {
    const signedIn = requireAccount(locals, url);
    const { calendarFeeds, audit } = await webDomain();
    const revoked = await calendarFeeds.revoke(signedIn.id);
    await audit.record({
      action: 'calendar-feed.revoked',
      actorAccountId: signedIn.id,
      target: `account:${signedIn.id}`,
      siteId: signedIn.siteId,
      ip: getClientAddress(),
      detail: { hadFeed: revoked },
    });
    return { revoked: true };
  },
};
