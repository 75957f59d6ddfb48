import { mayChangeSiteLinkProfile, mayManageSites, siteIdSchema, type Site } from '@telemed/domain';
import { ApiFailure } from '../api/api-response.ts';
import { webDomain } from '../domain.ts';
import type { AdminActor } from './admin-actor.ts';
import { auditAdministration, auditedChange } from './admin-audit.ts';

/**
 * What admins do to sites — register, change — with the access check, the store and the audit
 * record in one place, so the admin pages and the REST API cannot differ. Refusals throw
 * ApiFailure (403/404) and are audited as denied. Every signed-in account may read sites
 * (forms everywhere show their names).
 */

const target = (siteId: string) => `site:${siteId}`;

async function requireSiteManager(actor: AdminActor, action: string, siteId: string | undefined): Promise<void> {
  if (mayManageSites(actor.account)) return;
  await auditAdministration(actor, action, siteId ? target(siteId) : undefined, 'denied');
  throw new ApiFailure('forbidden', 'only admins manage sites');
}

export async function listSites(): Promise<Site[]> {
  return (await webDomain()).sites.list();
}

/** The site, or a 404 (also for an id that cannot be one). */
export async function siteById(siteId: string): Promise<Site> {
  const site = siteIdSchema.safeParse(siteId).success ? await (await webDomain()).sites.get(siteId) : null;
  if (!site) throw new ApiFailure('not_found', 'no such site');
  return site;
}

export async function registerSite(actor: AdminActor, input: unknown): Promise<Site> {
  const claimedId = typeof input === 'object' && input !== null && 'id' in input ? String(input.id).slice(0, 64) : '';
  await requireSiteManager(actor, 'site.created', claimedId || undefined);
  const { sites } = await webDomain();
  const site = await auditedChange(actor, 'site.created', claimedId ? target(claimedId) : undefined, () =>
    sites.register(input),
  );
  await auditAdministration(actor, 'site.created', target(site.id), 'success', { site });
  return site;
}

export async function updateSite(actor: AdminActor, siteId: string, input: unknown): Promise<Site> {
  await requireSiteManager(actor, 'site.updated', siteId.slice(0, 64));
  const { sites } = await webDomain();
  const updated = await auditedChange(actor, 'site.updated', target(siteId.slice(0, 64)), () =>
    sites.update(siteId, input),
  );
  if (!updated) throw new ApiFailure('not_found', 'no such site');
  await auditAdministration(actor, 'site.updated', target(siteId), 'success', { changes: updated.changes });
  return updated.site;
}

/**
 * Changes only a site's link profile (what the call caps its video to): admins and coordinators
 * (see mayChangeSiteLinkProfile). Refusals and bad input are audited like every site change.
 */
export async function changeSiteLinkProfile(actor: AdminActor, siteId: string, input: unknown): Promise<Site> {
  const shortId = siteId.slice(0, 64);
  if (!mayChangeSiteLinkProfile(actor.account)) {
    await auditAdministration(actor, 'site.link-profile', target(shortId), 'denied');
    throw new ApiFailure('forbidden', 'only coordinators and admins change a site’s link profile');
  }
  const { sites } = await webDomain();
  const updated = await auditedChange(actor, 'site.link-profile', target(shortId), () =>
    sites.setLinkProfile(siteId, input),
  );
  if (!updated) throw new ApiFailure('not_found', 'no such site');
  await auditAdministration(actor, 'site.link-profile', target(siteId), 'success', { changes: updated.changes });
  return updated.site;
}
