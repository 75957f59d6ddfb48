import type { RecordWarnings } from './json-records.ts';
import type { Role, SiteInput } from './records.ts';
import type { RedisClient } from './redis.ts';
import { sessionPhase } from './access-policy.ts';
import { AccountStore } from './account-store.ts';
import { ensureSchema } from './schema-version.ts';
import { SessionStore } from './session-store.ts';
import { SiteStore } from './site-store.ts';
import { StudyPrefetchQueue } from './study-prefetch.ts';

/**
 * Demo data for a first look (README lists the accounts): a university hospital and two island
 * hospitals, one account each, and a case conference all three may join. Seeding only adds
 * what is missing; it never overwrites a stored record.
 */

export const DEMO_SESSION_ID = '3f6c2a1e-5b7d-4c8e-9a10-d2b4e6f80a01';
/** The demo chest CT the private demo PACS holds (stack/demo-study.ts), attached to the demo conference. */
export const DEMO_STUDY_INSTANCE_UID = '2.25.166300469188732069190577687350041961974';
/** How long the demo conference stays open after each start. */
export const DEMO_SESSION_HOURS = 12;

export const demoSites: SiteInput[] = [
  {
    id: 'nankai-univ',
    nameJa: '南海大学病院',
    nameEn: 'Nankai University Hospital',
    kind: 'hub',
    region: '南海医療圏',
  },
  { id: 'aoshima', nameJa: '青島町立病院', nameEn: 'Aoshima Town Hospital', kind: 'hospital', region: '青島医療圏' },
  { id: 'kuroshio', nameJa: '黒潮島診療所', nameEn: 'Kuroshio Island Clinic', kind: 'clinic', region: '青島医療圏' },
];

export const demoAccounts: {
  username: string;
  password: string;
  displayName: string;
  siteId: string;
  roles: Role[];
}[] = [
  {
    username: 'tanaka',
    password: 'tanaka-demo-2026',
    displayName: '田中 一郎',
    siteId: 'nankai-univ',
    roles: ['specialist', 'coordinator'],
  },
  {
    username: 'kobayashi',
    password: 'kobayashi-demo-2026',
    displayName: '小林 真理',
    siteId: 'nankai-univ',
    roles: ['admin'],
  },
  { username: 'sato', password: 'sato-demo-2026', displayName: '佐藤 花子', siteId: 'aoshima', roles: ['site-doctor'] },
  {
    username: 'suzuki',
    password: 'suzuki-demo-2026',
    displayName: '鈴木 健',
    siteId: 'kuroshio',
    roles: ['site-doctor'],
  },
];

export async function seedDemo(redis: RedisClient, warnings: RecordWarnings): Promise<void> {
  await ensureSchema(redis, warnings);
  const sites = new SiteStore(redis, warnings);
  const accounts = new AccountStore(redis, warnings);
  const sessions = new SessionStore(redis, warnings);

  for (const site of demoSites) await sites.create(site);
  for (const account of demoAccounts) {
    if (!(await accounts.findByUsername(account.username))) await accounts.create(account);
  }
  const host = await accounts.findByUsername('tanaka');
  if (!host) return;
  // The demo conference is open for the next hours whenever the system starts: created the first
  // time, and moved to now again once a previous one is over (nothing else about it changes).
  const start = new Date(Math.floor((Date.now() - 3600_000) / 1800_000) * 1800_000);
  const times = {
    startsAt: start.toISOString(),
    endsAt: new Date(start.getTime() + DEMO_SESSION_HOURS * 3600_000).toISOString(),
  };
  const existing = await sessions.get(DEMO_SESSION_ID);
  if (!existing) {
    await sessions.create(
      {
        id: DEMO_SESSION_ID,
        title: '離島合同症例検討会（デモ）',
        description: '南海大学病院・青島町立病院・黒潮島診療所の合同カンファレンス。Demo case conference.',
        ...times,
        hostAccountId: host.id,
        invitedSiteIds: demoSites.map((site) => site.id),
        invitedAccountIds: [],
        allowDoubleBooking: true,
      },
      host,
    );
  } else if (existing.status === 'scheduled' && sessionPhase(existing) === 'ended') {
    await sessions.update(DEMO_SESSION_ID, { ...times, allowDoubleBooking: true });
  }
  const demo = await sessions.get(DEMO_SESSION_ID);
  const hasDemoCase = demo?.cases.some((sessionCase) =>
    sessionCase.studyInstanceUids.includes(DEMO_STUDY_INSTANCE_UID),
  );
  if (demo && demo.status === 'scheduled' && !hasDemoCase) {
    await sessions.attachCase(
      DEMO_SESSION_ID,
      {
        patientRef: 'AO-2026-0142',
        summary: '右下葉結節の経過観察（デモ）',
        studyInstanceUids: [DEMO_STUDY_INSTANCE_UID],
        consent: { documentNumber: 'IC-DEMO-0001', recordedBy: '佐藤 花子', recordedAt: times.startsAt },
        patientSiteId: 'aoshima',
      },
      host,
    );
    // The demo PACS's study is fetched into the proxy's cache ahead of the conference, like any case's.
    await new StudyPrefetchQueue(redis, warnings).enqueue(DEMO_SESSION_ID, [DEMO_STUDY_INSTANCE_UID]);
  }
}

/** The demo accounts the demo conference invites (everyone but the administrator). */
export const demoConferenceAccounts = demoAccounts.filter((account) => !account.roles.includes('admin'));
