import { InputError, mayReadAudit, parseInput } from '@telemed/domain';
import { adminActor } from '#lib/server/admin/admin-actor.ts';
import {
  actorNames,
  auditSearchSchema,
  readAuditTrail,
  searchParamsObject,
  searchQuery,
} from '#lib/server/admin/audit-reading.ts';
import { listSites } from '#lib/server/admin/site-administration.ts';
import type { PageServerLoad } from './$types';

const searchFields = ['from', 'to', 'action', 'actor', 'site', 'session', 'outcome', 'target'] as const;

export const load: PageServerLoad = async (event) => {
  const actor = await adminActor(event, mayReadAudit);
  const raw = searchParamsObject(event.url);
  // What the form shows back, as typed (also when it does not parse).
  const values = Object.fromEntries(searchFields.map((field) => [field, (raw[field] ?? '').slice(0, 200)]));
  const [names, sites] = await Promise.all([actorNames(), listSites()]);
  const shown = {
    values,
    actors: [...names].map(([id, name]) => ({ id, ...name })),
    sites: sites.map(({ id, nameJa, nameEn }) => ({ id, nameJa, nameEn })),
  };
  try {
    const search = parseInput(auditSearchSchema, { ...raw, format: 'json' });
    const page = await readAuditTrail(actor, search, 'page');
    return {
      ...shown,
      issues: [],
      entries: page.entries.map((entry) => ({
        ...entry,
        actorName: entry.actorAccountId ? (names.get(entry.actorAccountId)?.displayName ?? null) : null,
        detail: entry.detail ? JSON.stringify(entry.detail) : '',
      })),
      query: searchQuery(search).toString(),
      nextCursor: page.nextCursor,
      paged: search.cursor !== undefined,
    };
  } catch (caught) {
    if (!(caught instanceof InputError)) throw caught;
    return { ...shown, issues: caught.issues, entries: [], query: '', nextCursor: null, paged: false };
  }
};
