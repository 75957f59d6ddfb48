import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { mayChangeSiteLinkProfile, mayManageSites } from './access-policy.ts';
import { InputError } from './field-issues.ts';
import type { Account } from './records.ts';
import { connectRedis, type RedisClient } from './redis.ts';
import { linkCaps, siteLinkProfileSchema } from './site-link-profile.ts';
import { SiteStore } from './site-store.ts';

const quiet = { warn: () => undefined };

describe('a site’s link profile', () => {
  it('caps each kind of link at its typical capacities, a custom one at its own', () => {
    expect(linkCaps({ kind: 'unrestricted' })).toEqual({ upKbps: null, downKbps: null });
    expect(linkCaps({ kind: 'fibre' })).toEqual({ upKbps: null, downKbps: null });
    expect(linkCaps({ kind: 'satellite' })).toEqual({ upKbps: 1_000, downKbps: 1_000 });
    expect(linkCaps({ kind: 'lte' })).toEqual({ upKbps: 3_000, downKbps: 3_000 });
    expect(linkCaps({ kind: 'dsl' })).toEqual({ upKbps: 1_000, downKbps: 8_000 });
    expect(linkCaps({ kind: 'custom', upKbps: 256, downKbps: 2_048 })).toEqual({ upKbps: 256, downKbps: 2_048 });
  });

  it('refuses unknown kinds, custom links without both capacities or beyond the bounds, and extra fields', () => {
    for (const bad of [
      { kind: 'dial-up' },
      { kind: 'custom', upKbps: 500 },
      { kind: 'custom', upKbps: 10, downKbps: 500 },
      { kind: 'custom', upKbps: 500, downKbps: 2_000_000 },
      { kind: 'custom', upKbps: 500.5, downKbps: 500 },
      { kind: 'lte', upKbps: 500 },
    ]) {
      expect(siteLinkProfileSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('may be changed by admins and coordinators, but only admins manage the rest of a site', () => {
    const account = (roles: Account['roles'], active = true) => ({ roles, active }) as Account;
    expect(mayChangeSiteLinkProfile(account(['admin']))).toBe(true);
    expect(mayChangeSiteLinkProfile(account(['coordinator']))).toBe(true);
    expect(mayManageSites(account(['coordinator']))).toBe(false);
    for (const role of ['specialist', 'site-doctor', 'observer'] as const) {
      expect(mayChangeSiteLinkProfile(account([role]))).toBe(false);
    }
    expect(mayChangeSiteLinkProfile(account(['coordinator'], false))).toBe(false);
  });
});

describe('SiteStore link profiles on a real Redis', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let sites: SiteStore;

  beforeAll(async () => {
    server = await startTestRedis();
    redis = await connectRedis(server.url, () => undefined);
    sites = new SiteStore(redis, quiet);
  });
  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  it('reads a site stored before link profiles as unrestricted, dropping nothing', async () => {
    const stored = {
      id: 'old-clinic',
      nameJa: '旧診療所',
      nameEn: 'Old Clinic',
      kind: 'clinic',
      region: '北部',
      contact: { person: '', phone: '', email: '' },
    };
    await redis.set('site:old-clinic', JSON.stringify(stored));
    await redis.sAdd('sites', 'old-clinic');
    expect(await sites.get('old-clinic')).toEqual({ ...stored, linkProfile: { kind: 'unrestricted' } });
    expect((await sites.list()).map((site) => site.id)).toContain('old-clinic');
  });

  it('changes only the link profile, and reports the change', async () => {
    const changed = await sites.setLinkProfile('old-clinic', { kind: 'custom', upKbps: 512, downKbps: 1_500 });
    expect(changed?.site).toMatchObject({ nameEn: 'Old Clinic', linkProfile: { kind: 'custom', upKbps: 512 } });
    expect(changed?.changes).toEqual({
      'linkProfile.kind': { from: 'unrestricted', to: 'custom' },
      'linkProfile.upKbps': { from: undefined, to: 512 },
      'linkProfile.downKbps': { from: undefined, to: 1_500 },
    });
    const satellite = await sites.setLinkProfile('old-clinic', { kind: 'satellite' });
    expect(satellite?.site.linkProfile).toEqual({ kind: 'satellite' });
    expect(await sites.setLinkProfile('no-such-site', { kind: 'lte' })).toBeNull();
    await expect(sites.setLinkProfile('old-clinic', { kind: 'custom', upKbps: 1 })).rejects.toBeInstanceOf(InputError);
    expect((await sites.get('old-clinic'))?.linkProfile).toEqual({ kind: 'satellite' });
  });

  it('lets an admin set it with the site’s other fields', async () => {
    const updated = await sites.update('old-clinic', { region: '北部医療圏', linkProfile: { kind: 'lte' } });
    expect(updated?.site).toMatchObject({ region: '北部医療圏', linkProfile: { kind: 'lte' } });
  });
});
