import { webDomain } from '#lib/server/domain.ts';
import { requireAccount } from '#lib/server/guards.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
  const signedIn = requireAccount(locals, url);
  const { accounts, sessions, sites } = await webDomain();
  const account = await accounts.get(signedIn.id);
  const [joinable, allSites] = await Promise.all([account ? sessions.listJoinable(account) : [], sites.list()]);
  const siteNames = new Map(allSites.map((site) => [site.id, { ja: site.nameJa, en: site.nameEn }]));
  return {
    sessions: joinable.map((session) => ({
      id: session.id,
      title: session.title,
      description: session.description,
      startsAt: session.startsAt,
      endsAt: session.endsAt,
      status: session.status,
      sites: session.invitedSiteIds.map((id) => siteNames.get(id) ?? { ja: id, en: id }),
    })),
  };
};
