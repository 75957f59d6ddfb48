import { maySeeAllSessions, mayScheduleSessions } from '@telemed/domain';
import { webDomain } from '#lib/server/domain.ts';
import { requireAccount } from '#lib/server/guards.ts';
import { scheduleDirectory, sessionCard } from '#lib/server/schedule-directory.ts';
import {
  addDays,
  isDayKey,
  monthWeeks,
  tokyoDay,
  tokyoDayStart,
  weekDays,
  weekStart,
} from '#lib/schedule/calendar-grid.ts';
import type { PageServerLoad } from './$types';

const views = ['week', 'month', 'list'] as const;
type View = (typeof views)[number];
const LIST_WEEKS = 8;

/**
 * The calendar: a week, a month or a list of sessions, in Japan time. Coordinators and admins
 * see every site's sessions (to plan and to spot double bookings); others see their own.
 */
export const load: PageServerLoad = async ({ locals, url }) => {
  const signedIn = requireAccount(locals, url);
  const { accounts, sessions } = await webDomain();
  const account = await accounts.get(signedIn.id);
  const requestedView = url.searchParams.get('view');
  const view: View = views.find((candidate) => candidate === requestedView) ?? 'week';
  const requestedDay = url.searchParams.get('date');
  const today = tokyoDay(new Date());
  const day = isDayKey(requestedDay) ? requestedDay : today;

  const days =
    view === 'week'
      ? weekDays(day)
      : view === 'month'
        ? monthWeeks(day).flat()
        : Array.from({ length: LIST_WEEKS * 7 }, (_, index) => addDays(weekStart(day), index));
  const from = tokyoDayStart(days[0]!);
  const to = tokyoDayStart(addDays(days.at(-1)!, 1));

  const seesAll = account ? maySeeAllSessions(account) : false;
  let found = await sessions.listOverlapping(from, to);
  if (!seesAll) {
    const mine = new Set((await sessions.listFor(signedIn)).map((session) => session.id));
    found = found.filter((session) => mine.has(session.id));
  }
  const directory = await scheduleDirectory();
  const now = new Date();
  return {
    view,
    day,
    today,
    seesAll,
    mayCreate: account ? mayScheduleSessions(account) : false,
    sessions: found.map((session) => sessionCard(session, directory, now)),
  };
};
