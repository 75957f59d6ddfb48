import { RedisStore } from './redis-store.ts';
import { readRecord, readRecords } from './json-records.ts';
import { siteSchema, type Site, type SiteInput } from './records.ts';

const siteKey = (id: string) => `site:${id}`;
const ALL_SITES = 'sites';

export class SiteStore extends RedisStore {
  async get(id: string): Promise<Site | null> {
    return readRecord(this.redis, siteKey(id), siteSchema, this.warnings);
  }

  async list(): Promise<Site[]> {
    const ids = await this.redis.sMembers(ALL_SITES);
    const sites = await readRecords(this.redis, ids.sort().map(siteKey), siteSchema, this.warnings);
    return sites;
  }

  /** Adds a site; returns false (and changes nothing) when the id is taken. */
  async create(site: SiteInput): Promise<boolean> {
    const record = siteSchema.parse(site);
    const created = await this.redis.set(siteKey(record.id), JSON.stringify(record), { condition: 'NX' });
    if (created === null) return false;
    await this.redis.sAdd(ALL_SITES, record.id);
    return true;
  }
}
