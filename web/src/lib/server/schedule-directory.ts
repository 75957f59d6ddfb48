import { sessionPhase, type Account, type Session, type Site } from '@telemed/domain';
import type { SessionCard } from '../schedule/session-card.ts';
import { webDomain } from './domain.ts';

export type { SessionCard };

/**
 * Names for the schedule pages: sites and accounts as the forms and lists show them (never
 * password hashes or second-factor secrets).
 */

export interface DirectorySite {
  id: string;
  nameJa: string;
  nameEn: string;
  kind: Site['kind'];
  region: string;
}

export interface DirectoryAccount {
  id: string;
  displayName: string;
  siteId: string;
  roles: Account['roles'];
  active: boolean;
}

export interface Directory {
  sites: DirectorySite[];
  accounts: DirectoryAccount[];
}

export async function scheduleDirectory(): Promise<Directory> {
  const { sites, accounts } = await webDomain();
  const [allSites, allAccounts] = await Promise.all([sites.list(), accounts.list()]);
  return {
    sites: allSites.map(({ id, nameJa, nameEn, kind, region }) => ({ id, nameJa, nameEn, kind, region })),
    accounts: allAccounts.map(({ id, displayName, siteId, roles, active }) => ({
      id,
      displayName,
      siteId,
      roles,
      active,
    })),
  };
}

/** What a list or calendar shows of a session, with its status at `now`. */
export function sessionCard(session: Session, directory: Directory, now = new Date()): SessionCard {
  const sites = new Map(directory.sites.map((site) => [site.id, site]));
  const host = directory.accounts.find((account) => account.id === session.hostAccountId);
  return {
    id: session.id,
    title: session.title,
    description: session.description,
    startsAt: session.startsAt,
    endsAt: session.endsAt,
    status: sessionPhase(session, now),
    hostName: host?.displayName ?? '—',
    sites: session.invitedSiteIds.map((id) => ({
      id,
      ja: sites.get(id)?.nameJa ?? id,
      en: sites.get(id)?.nameEn ?? id,
    })),
    caseCount: session.cases.length,
  };
}
