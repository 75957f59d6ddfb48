import { webDomain } from '#lib/server/domain.ts';
import { requireAccount } from '#lib/server/guards.ts';
import { scheduleDirectory, sessionCard } from '#lib/server/schedule-directory.ts';
import type { PageServerLoad } from './$types';

const PAST_DAYS = 30;

/** "My sessions": live now (with a join button), upcoming, and the last month's. */
export const load: PageServerLoad = async ({ locals, url }) => {
  const signedIn = requireAccount(locals, url);
  const { sessions } = await webDomain();
  const [mine, directory] = await Promise.all([sessions.listFor(signedIn), scheduleDirectory()]);
  const now = new Date();
  const pastLimit = now.getTime() - PAST_DAYS * 24 * 3600_000;
  const cards = mine.map((session) => sessionCard(session, directory, now));
  return {
    live: cards.filter((card) => card.status === 'live'),
    upcoming: cards.filter((card) => card.status === 'scheduled'),
    past: cards
      .filter(
        (card) => (card.status === 'ended' || card.status === 'cancelled') && Date.parse(card.endsAt) >= pastLimit,
      )
      .reverse(),
  };
};
