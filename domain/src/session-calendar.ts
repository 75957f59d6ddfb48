import { getVtimezoneComponent } from '@touch4it/ical-timezones';
import { ICalCalendar, ICalCalendarMethod, ICalEventStatus, ICalEventTransparency } from 'ical-generator';
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { Session, Site } from './records.ts';

/**
 * Sessions as an iCalendar object (RFC 5545) for Google Calendar, Outlook and Thunderbird: one
 * session's `.ics` download and each account's subscribed feed. Only what a calendar needs is
 * written (title, times, sites, the room's address); a session's cases carry patient references
 * and never leave the system this way.
 */

export const CALENDAR_TIME_ZONE = 'Asia/Tokyo';

/** The same session keeps the same UID in every file and feed, so clients update it in place. */
export const sessionCalendarUid = (sessionId: string) => `${sessionId}@island-telemed`;

export const sessionRoomUrl = (baseUrl: string, sessionId: string) =>
  `${new URL(baseUrl).origin}/sessions/${encodeURIComponent(sessionId)}`;

const LOCATION = 'オンライン / Online';
const CANCELLED_PREFIX = '【中止 / Cancelled】';

export interface SessionCalendarOptions {
  /** The web's origin; rooms are at `<baseUrl>/sessions/<id>`. */
  baseUrl: string;
  /** The calendar's name in the client (X-WR-CALNAME). */
  name: string;
  /** Every site (or at least the invited ones), to name the invited sites in both languages. */
  sites: readonly Pick<Site, 'id' | 'nameJa' | 'nameEn'>[];
  /** For a subscribed feed: how often clients should fetch it again. */
  refreshMinutes?: number;
  /** When the file is made (DTSTAMP); now unless a test fixes it. */
  now?: Date;
}

const optionsSchema = z.object({
  baseUrl: z.url({ protocol: /^https?$/ }),
  name: z.string().trim().min(1).max(200),
  refreshMinutes: z
    .number()
    .int()
    .min(5)
    .max(7 * 24 * 60)
    .optional(),
});

const inTokyo = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' }).setZone(CALENDAR_TIME_ZONE);
const inUtc = (iso: string) => DateTime.fromISO(iso, { zone: 'utc' });

function description(session: Session, roomUrl: string, siteNames: Map<string, string>): string {
  const parts: string[] = [];
  if (session.status === 'cancelled')
    parts.push('このカンファレンスは中止されました。 / This conference has been cancelled.');
  if (session.description.trim()) parts.push(session.description.trim());
  if (session.invitedSiteIds.length > 0) {
    const sites = session.invitedSiteIds.map((id) => `・${siteNames.get(id) ?? id}`);
    parts.push(['参加施設 / Sites:', ...sites].join('\n'));
  }
  parts.push(`カンファレンス室 / Conference room:\n${roomUrl}`);
  return parts.join('\n\n');
}

/** The sessions as one VCALENDAR (METHOD:PUBLISH), times in Japan time with its VTIMEZONE. */
export function sessionCalendar(sessions: readonly Session[], options: SessionCalendarOptions): string {
  const checked = optionsSchema.parse(options);
  const siteNames = new Map(options.sites.map((site) => [site.id, `${site.nameJa} / ${site.nameEn}`]));
  const stamp = DateTime.fromJSDate(options.now ?? new Date(), { zone: 'utc' });
  const calendar = new ICalCalendar({
    prodId: { company: 'island-telemed', product: 'session-calendar', language: 'JA' },
    method: ICalCalendarMethod.PUBLISH,
    name: checked.name,
    // No calendar-wide zone on purpose: with one set, ical-generator writes DTSTAMP, CREATED and
    // LAST-MODIFIED as local times without a zone, which RFC 5545 forbids (they must be UTC).
    // The events carry the zone instead, and the generator still adds its VTIMEZONE.
    timezone: { name: null, generator: getVtimezoneComponent },
    ...(checked.refreshMinutes ? { ttl: checked.refreshMinutes * 60 } : {}),
  });
  for (const session of sessions) {
    const roomUrl = sessionRoomUrl(checked.baseUrl, session.id);
    const cancelled = session.status === 'cancelled';
    calendar.createEvent({
      id: sessionCalendarUid(session.id),
      sequence: session.sequence,
      stamp,
      created: inUtc(session.createdAt),
      lastModified: inUtc(session.updatedAt),
      timezone: CALENDAR_TIME_ZONE,
      start: inTokyo(session.startsAt),
      end: inTokyo(session.endsAt),
      // Some clients (Outlook's subscribed calendars) show cancelled events like any other.
      summary: cancelled ? `${CANCELLED_PREFIX}${session.title}` : session.title,
      description: description(session, roomUrl, siteNames),
      location: LOCATION,
      url: roomUrl,
      status: cancelled ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
      transparency: cancelled ? ICalEventTransparency.TRANSPARENT : ICalEventTransparency.OPAQUE,
    });
  }
  // ical-generator writes custom calendar properties after the events, where RFC 5545's grammar
  // allows none; X-WR-TIMEZONE (the zone Google and Outlook show the calendar in) goes up here.
  const method = 'METHOD:PUBLISH\r\n';
  return calendar.toString().replace(method, `${method}X-WR-TIMEZONE:${CALENDAR_TIME_ZONE}\r\n`);
}
