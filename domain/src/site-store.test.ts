import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { InputError } from './field-issues.ts';
import { connectRedis, type RedisClient } from './redis.ts';
import { SiteStore } from './site-store.ts';

const quiet = { warn: () => undefined };

async function inputIssues(promise: Promise<unknown>) {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(InputError);
  return (error as InputError).issues.map(({ field, code }) => ({ field, code }));
}

describe('SiteStore on a real Redis', () => {
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

  it('registers a site with names, kind, region and contact, and lists it', async () => {
    const site = await sites.register({
      id: 'minami-clinic',
      nameJa: ' 南診療所 ',
      nameEn: 'Minami Clinic',
      kind: 'clinic',
      region: '南部医療圏',
      contact: { person: '事務 太郎', phone: '0980-12-3456', email: 'it@minami.example.jp' },
    });
    expect(site.nameJa).toBe('南診療所');
    expect(await sites.get('minami-clinic')).toEqual(site);
    expect((await sites.list()).map((listed) => listed.id)).toContain('minami-clinic');
  });

  it('refuses bad fields and a taken id field by field, storing nothing', async () => {
    expect(
      await inputIssues(
        sites.register({
          id: 'Bad Id',
          nameJa: '',
          nameEn: 'x'.repeat(101),
          kind: 'castle',
          contact: { phone: 'abc' },
        }),
      ),
    ).toEqual([
      { field: 'id', code: 'invalid_format' },
      { field: 'nameJa', code: 'required' },
      { field: 'nameEn', code: 'too_long' },
      { field: 'kind', code: 'invalid_value' },
      { field: 'contact.phone', code: 'invalid_format' },
    ]);
    expect(
      await inputIssues(sites.register({ id: 'minami-clinic', nameJa: '別', nameEn: 'Other', kind: 'hub' })),
    ).toEqual([{ field: 'id', code: 'taken' }]);
    expect((await sites.get('minami-clinic'))?.nameEn).toBe('Minami Clinic');
  });

  it('changes only the fields given, contact fields one by one, and reports what changed', async () => {
    const updated = await sites.update('minami-clinic', {
      nameEn: 'Minami Town Clinic',
      contact: { phone: '0980-00-0000' },
    });
    expect(updated?.site).toMatchObject({
      id: 'minami-clinic',
      nameJa: '南診療所',
      nameEn: 'Minami Town Clinic',
      region: '南部医療圏',
      contact: { person: '事務 太郎', phone: '0980-00-0000', email: 'it@minami.example.jp' },
    });
    expect(updated?.changes).toEqual({
      nameEn: { from: 'Minami Clinic', to: 'Minami Town Clinic' },
      'contact.phone': { from: '0980-12-3456', to: '0980-00-0000' },
    });
    expect(await sites.get('minami-clinic')).toEqual(updated?.site);
  });

  it('refuses a bad change or a new id and keeps the stored site as it was', async () => {
    const before = await sites.get('minami-clinic');
    expect(await inputIssues(sites.update('minami-clinic', { nameJa: '', contact: { email: 'not-mail' } }))).toEqual([
      { field: 'nameJa', code: 'required' },
      { field: 'contact.email', code: 'invalid_format' },
    ]);
    expect(await inputIssues(sites.update('minami-clinic', { id: 'renamed' }))).toEqual([
      { field: 'id', code: 'invalid_value' },
    ]);
    expect(await sites.get('minami-clinic')).toEqual(before);
  });

  it('answers null for an unknown or malformed id, and leaves a damaged record alone', async () => {
    expect(await sites.update('nowhere', { nameEn: 'x' })).toBeNull();
    expect(await sites.update('../x', { nameEn: 'x' })).toBeNull();
    await redis.set('site:broken', '{"id": "broken"');
    await redis.sAdd('sites', 'broken');
    expect(await sites.update('broken', { nameEn: 'x' })).toBeNull();
    expect(await redis.get('site:broken')).toBe('{"id": "broken"');
  });
});
