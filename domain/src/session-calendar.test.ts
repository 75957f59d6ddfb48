import ICAL from 'ical.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type PrivateRedis } from '../../stack/private-redis.ts';
import { AccountStore } from './account-store.ts';
import type { Account, Session, Site } from './records.ts';
import { connectRedis, type RedisClient } from './redis.ts';
import { sessionCalendar, sessionCalendarUid, type SessionCalendarOptions } from './session-calendar.ts';
import { SessionStore } from './session-store.ts';
import { SiteStore } from './site-store.ts';

const silent = { warn: () => undefined };
const sites: Site[] = [
  {
    id: 'cal-univ',
    nameJa: '南海大学病院',
    nameEn: 'Nankai University Hospital',
    kind: 'hub',
    region: '',
    contact: { person: '', phone: '', email: '' },
    linkProfile: { kind: 'unrestricted' },
  },
  {
    id: 'cal-island',
    nameJa: '青島町立病院',
    nameEn: 'Aoshima Town Hospital',
    kind: 'hospital',
    region: '',
    contact: { person: '', phone: '', email: '' },
    linkProfile: { kind: 'unrestricted' },
  },
];
const options: SessionCalendarOptions = {
  baseUrl: 'https://telemed.example.jp',
  name: '離島遠隔カンファレンス',
  sites,
};

/** A date a few days ahead at a whole hour (UTC), so the session is still open to changes. */
function daysAhead(days: number, hourUtc: number): string {
  const date = new Date(Date.now() + days * 86_400_000);
  date.setUTCHours(hourUtc, 0, 0, 0);
  return date.toISOString();
}

function parse(text: string) {
  const calendar = new ICAL.Component(ICAL.parse(text));
  const events = calendar.getAllSubcomponents('vevent').map((component) => new ICAL.Event(component));
  return { calendar, events };
}

function onlyEvent(text: string) {
  const { events } = parse(text);
  expect(events).toHaveLength(1);
  return events[0]!;
}

describe('session calendar (iCalendar export)', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let sessions: SessionStore;
  let host: Account;
  let counter = 0;

  async function schedule(overrides: Partial<{ title: string; description: string }> = {}): Promise<Session> {
    counter += 1;
    const { session } = await sessions.create(
      {
        title: overrides.title ?? '症例検討会',
        description: overrides.description ?? '',
        startsAt: daysAhead(3 + counter, 1),
        endsAt: daysAhead(3 + counter, 2),
        invitedSiteIds: ['cal-island'],
      },
      host,
    );
    return session;
  }

  beforeAll(async () => {
    server = await startTestRedis();
    redis = await connectRedis(server.url, () => undefined);
    const siteStore = new SiteStore(redis, silent);
    for (const site of sites) await siteStore.create(site);
    host = (await new AccountStore(redis, silent).create({
      username: 'calendar-host',
      password: 'calendar-host-password-2026',
      displayName: '田中 一郎',
      siteId: 'cal-univ',
      roles: ['coordinator', 'specialist'],
    }))!;
    sessions = new SessionStore(redis, silent);
  });
  afterAll(async () => {
    await redis?.close();
    await server?.stop();
  });

  it('writes Japan times with TZID=Asia/Tokyo, a VTIMEZONE, and the right UTC instants', async () => {
    const session = await schedule();
    const text = sessionCalendar([session], options);
    const { calendar, events } = parse(text);
    expect(calendar.getFirstPropertyValue('method')).toBe('PUBLISH');
    expect(calendar.getFirstPropertyValue('prodid')).toMatch(/island-telemed/);
    expect(calendar.getFirstPropertyValue('x-wr-timezone')).toBe('Asia/Tokyo');
    expect(calendar.getFirstPropertyValue('x-wr-calname')).toBe('離島遠隔カンファレンス');
    expect(calendar.getFirstSubcomponent('vtimezone')?.getFirstPropertyValue('tzid')).toBe('Asia/Tokyo');

    const event = events[0]!;
    expect(event.startDate.zone?.tzid).toBe('Asia/Tokyo');
    expect(event.startDate.toJSDate().toISOString()).toBe(session.startsAt);
    expect(event.endDate.toJSDate().toISOString()).toBe(session.endsAt);
    // 01:00 UTC is 10:00 in Japan, written as wall time with the zone.
    expect(text).toMatch(/\r\nDTSTART;TZID=Asia\/Tokyo:\d{8}T100000\r\n/);
    expect(text).toMatch(/\r\nDTEND;TZID=Asia\/Tokyo:\d{8}T110000\r\n/);

    // Stamps must be UTC (RFC 5545 §3.8.7): the trailing Z.
    const vevent = event.component;
    for (const name of ['dtstamp', 'created', 'last-modified']) {
      expect(vevent.getFirstProperty(name)?.toICALString()).toMatch(/:\d{8}T\d{6}Z$/);
    }
    const created = (vevent.getFirstPropertyValue('created') as ICAL.Time).toJSDate();
    expect(created.getTime()).toBe(Math.floor(Date.parse(session.createdAt) / 1000) * 1000);
  });

  it('describes the session with its sites in both languages and the room address', async () => {
    const session = await schedule({ description: '胸部CTの読影' });
    const event = onlyEvent(sessionCalendar([session], options));
    const room = `https://telemed.example.jp/sessions/${session.id}`;
    expect(event.summary).toBe('症例検討会');
    expect(event.location).toBe('オンライン / Online');
    expect(event.component.getFirstPropertyValue('url')).toBe(room);
    expect(event.description).toContain('胸部CTの読影');
    expect(event.description).toContain('青島町立病院 / Aoshima Town Hospital');
    expect(event.description).toContain(room);
    expect(event.component.getFirstPropertyValue('status')).toBe('CONFIRMED');
  });

  it('keeps the UID across regenerations and bumps SEQUENCE with every change', async () => {
    const session = await schedule();
    const first = onlyEvent(sessionCalendar([session], options));
    expect(first.uid).toBe(sessionCalendarUid(session.id));
    expect(first.sequence).toBe(0);
    expect(onlyEvent(sessionCalendar([session], options)).uid).toBe(first.uid);

    const moved = await sessions.update(session.id, { startsAt: daysAhead(20, 3), endsAt: daysAhead(20, 4) });
    const second = onlyEvent(sessionCalendar([moved!.session], options));
    expect(second.uid).toBe(first.uid);
    expect(second.sequence).toBe(1);
    expect(second.startDate.toJSDate().toISOString()).toBe(daysAhead(20, 3));

    const renamed = await sessions.update(session.id, { title: '症例検討会（延期）' });
    expect(onlyEvent(sessionCalendar([renamed!.session], options)).sequence).toBe(2);
  });

  it('marks a cancelled session CANCELLED with a higher SEQUENCE, so clients drop it', async () => {
    const session = await schedule();
    const cancelled = await sessions.cancel(session.id);
    const event = onlyEvent(sessionCalendar([cancelled!], options));
    expect(event.uid).toBe(sessionCalendarUid(session.id));
    expect(event.sequence).toBe(1);
    expect(event.component.getFirstPropertyValue('status')).toBe('CANCELLED');
    expect(event.component.getFirstPropertyValue('transp')).toBe('TRANSPARENT');
    expect(event.summary).toContain('症例検討会');
    expect(event.summary).toContain('Cancelled');
  });

  it('never writes case or patient data', async () => {
    const session = await schedule();
    const attached = await sessions.attachCase(
      session.id,
      {
        patientRef: 'PT-SECRET-0042',
        summary: '右下葉結節の経過観察',
        studyInstanceUids: ['1.2.392.200036.9116.2.6.1.48'],
        consent: { documentNumber: 'CONSENT-7788', recordedBy: '佐藤 花子', recordedAt: '2026-11-01T09:00' },
      },
      host,
    );
    const text = sessionCalendar([attached!.session], options);
    for (const secret of ['PT-SECRET-0042', '右下葉結節', '1.2.392.200036', 'CONSENT-7788', '佐藤 花子']) {
      expect(text).not.toContain(secret);
    }
  });

  it('folds long Japanese lines at ≤ 75 octets, with CRLF, without splitting characters', async () => {
    const title = '離島・へき地医療支援のための合同読影カンファレンス𠮷'.repeat(4).slice(0, 190);
    const description = '胸部CT・頭部MRIの所見について大学病院の専門医と検討します。🩺\n'.repeat(20);
    const session = await schedule({ title, description });
    const text = sessionCalendar([session], options);

    expect(text.endsWith('END:VCALENDAR')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    for (const line of text.split('\r\n')) expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(75);
    // Each folded line is valid UTF-8 on its own: no lone surrogate, no replacement character.
    for (const line of text.split('\r\n')) {
      expect(Buffer.from(line, 'utf8').toString('utf8')).toBe(line);
      expect(line).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    }
    expect(text.split('\r\n').filter((line) => line.startsWith(' ')).length).toBeGreaterThan(5);

    const event = onlyEvent(text);
    expect(event.summary).toBe(title);
    expect(event.description.startsWith(description.trim())).toBe(true);
  });

  it('writes a feed of several sessions, and an empty one that still parses', async () => {
    const [one, two] = [await schedule(), await schedule()];
    const text = sessionCalendar([one, two], { ...options, refreshMinutes: 60 });
    const { calendar, events } = parse(text);
    expect(events.map((event) => event.uid)).toEqual([sessionCalendarUid(one.id), sessionCalendarUid(two.id)]);
    expect(calendar.getAllSubcomponents('vtimezone')).toHaveLength(1);
    expect(calendar.getFirstPropertyValue('x-published-ttl')?.toString()).toBe('PT1H');

    const empty = parse(sessionCalendar([], options));
    expect(empty.events).toHaveLength(0);
    expect(empty.calendar.getFirstPropertyValue('x-wr-timezone')).toBe('Asia/Tokyo');
  });

  it('refuses a base URL that is not http(s)', () => {
    expect(() => sessionCalendar([], { ...options, baseUrl: 'javascript:alert(1)' })).toThrow();
  });
});
