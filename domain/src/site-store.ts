import { z } from 'zod';
import { RedisStore } from './redis-store.ts';
import { readRecord, readRecords } from './json-records.ts';
import { InputError, issue, parseInput } from './field-issues.ts';
import { replaceIfUnchanged } from './replace-if-unchanged.ts';
import { fieldChanges, type FieldChanges } from './field-changes.ts';
import { siteContactSchema, siteKinds, siteSchema, type Site, type SiteInput } from './records.ts';
import { siteLinkProfileSchema } from './site-link-profile.ts';

const siteKey = (id: string) => `site:${id}`;
const ALL_SITES = 'sites';

/** A new site, as an admin enters it (the web form and `POST /api/v1/sites`). */
export const siteDraftSchema = siteSchema;
export type SiteDraft = z.input<typeof siteDraftSchema>;

/**
 * A change to a site: only the fields given change, contact fields one by one. The id is the
 * site's key in every session and account, so it never changes. (The stored schema's defaults
 * are unwrapped: zod applies defaults even to optional fields, which would blank what was left out.)
 */
export const sitePatchSchema = z.object({
  nameJa: siteSchema.shape.nameJa.optional(),
  nameEn: siteSchema.shape.nameEn.optional(),
  kind: z.enum(siteKinds).optional(),
  region: siteSchema.shape.region.unwrap().optional(),
  contact: z
    .object({
      person: siteContactSchema.shape.person.unwrap().optional(),
      phone: siteContactSchema.shape.phone.unwrap().optional(),
      email: siteContactSchema.shape.email.unwrap().optional(),
    })
    .optional(),
  linkProfile: siteLinkProfileSchema.optional(),
});
export type SitePatch = z.input<typeof sitePatchSchema>;

export class SiteStore extends RedisStore {
  async get(id: string): Promise<Site | null> {
    if (!siteSchema.shape.id.safeParse(id).success) return null;
    return readRecord(this.redis, siteKey(id), siteSchema, this.warnings);
  }

  async list(): Promise<Site[]> {
    const ids = await this.redis.sMembers(ALL_SITES);
    const sites = await readRecords(this.redis, ids.sort().map(siteKey), siteSchema, this.warnings);
    return sites;
  }

  /**
   * Adds a site; returns false (and changes nothing) when the id is taken. For seeding and tests,
   * whose input is known to be good; admins' input goes through `register`.
   */
  async create(site: SiteInput): Promise<boolean> {
    const record = siteSchema.parse(site);
    const created = await this.redis.set(siteKey(record.id), JSON.stringify(record), { condition: 'NX' });
    if (created === null) return false;
    await this.redis.sAdd(ALL_SITES, record.id);
    return true;
  }

  /** Registers a site an admin entered: InputError for bad fields, or `taken` on `id`. */
  async register(input: unknown): Promise<Site> {
    const site = parseInput(siteDraftSchema, input);
    if (!(await this.create(site))) throw new InputError([issue('id', 'taken', `a site ${site.id} exists`)]);
    return site;
  }

  /**
   * Changes names, kind, region or contact. InputError for bad fields (or an attempt to change
   * the id); null for an unknown site. Returns the stored site and what changed.
   */
  async update(id: string, input: unknown): Promise<{ site: Site; changes: FieldChanges } | null> {
    if (isPlainObject(input) && input.id !== undefined && input.id !== id) {
      throw new InputError([issue('id', 'invalid_value', 'a site’s id cannot change')]);
    }
    const patch = parseInput(sitePatchSchema, input);
    if (!siteSchema.shape.id.safeParse(id).success) return null;
    const replaced = await replaceIfUnchanged(this.redis, siteKey(id), siteSchema, this.warnings, (current) => ({
      ...current,
      ...(patch.nameJa !== undefined ? { nameJa: patch.nameJa } : {}),
      ...(patch.nameEn !== undefined ? { nameEn: patch.nameEn } : {}),
      ...(patch.kind !== undefined ? { kind: patch.kind } : {}),
      ...(patch.region !== undefined ? { region: patch.region } : {}),
      contact: { ...current.contact, ...definedFields(patch.contact ?? {}) },
      ...(patch.linkProfile !== undefined ? { linkProfile: patch.linkProfile } : {}),
    }));
    return replaced && { site: replaced.next, changes: fieldChanges(replaced.previous, replaced.next) };
  }

  /**
   * Changes only the site's link profile (what a coordinator may change of a site): InputError
   * for a bad profile, null for an unknown site. Returns the stored site and what changed.
   */
  async setLinkProfile(id: string, input: unknown): Promise<{ site: Site; changes: FieldChanges } | null> {
    const linkProfile = parseInput(siteLinkProfileSchema, input);
    if (!siteSchema.shape.id.safeParse(id).success) return null;
    const replaced = await replaceIfUnchanged(this.redis, siteKey(id), siteSchema, this.warnings, (current) => ({
      ...current,
      linkProfile,
    }));
    return replaced && { site: replaced.next, changes: fieldChanges(replaced.previous, replaced.next) };
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function definedFields<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
