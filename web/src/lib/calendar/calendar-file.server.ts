import { sessionCalendar, type Session } from '@telemed/domain';
import { messages } from '#lib/i18n.ts';
import { webDomain } from '#lib/server/domain.ts';

/** The name calendar apps show for our events' calendar, in both languages. */
export const CALENDAR_NAME = `${messages('ja').appName} / ${messages('en').appName}`;

/** How far back the personal feed reaches (older sessions drop out of subscribers' calendars). */
export const FEED_DAYS_BACK = 90;
/** How often subscribed calendars are asked to fetch the feed again (Outlook honours it). */
export const FEED_REFRESH_MINUTES = 60;

export const feedUrl = (origin: string, token: string) => `${origin}/calendar/${token}.ics`;

/**
 * An iCalendar answer. Never stored by caches on the way: it names sessions and sites, and the
 * feed's address is its only credential.
 */
export async function calendarResponse(
  sessions: readonly Session[],
  options: { origin: string; filename: string; attachment: boolean; refreshMinutes?: number },
): Promise<Response> {
  const { sites } = await webDomain();
  const text = sessionCalendar(sessions, {
    baseUrl: options.origin,
    name: CALENDAR_NAME,
    sites: await sites.list(),
    ...(options.refreshMinutes ? { refreshMinutes: options.refreshMinutes } : {}),
  });
  return new Response(text, {
    headers: {
      'content-type': 'text/calendar; charset=utf-8',
      'content-disposition': `${options.attachment ? 'attachment' : 'inline'}; filename="${options.filename}"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-robots-tag': 'noindex, nofollow',
    },
  });
}
