import { io } from 'socket.io-client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { SessionStore, connectRedis, roles, type RedisClient, type Role, type Session } from '@telemed/domain';
import { launchThrowawayStack, type Stack } from '../stack/stack.ts';
import { api, ensureSite, page, testAccount, type TestAccount } from './api-client.ts';

/**
 * Every role × every action × every relation to a session, against the real server: the answer
 * each combination gets (allowed or refused) must be the one in `expected` below, which restates
 * the rules of domain/src/access-policy.ts in table form.
 *
 * The session under test is hosted by a coordinator of the hub and is live now. Relations:
 * the account works at the host's site or another site, and is invited (individually) or not.
 */

/** Sessions that must lie ahead are scheduled from next year on. */
const nextYear = new Date().getUTCFullYear() + 1;

const relations = ['own-site+invited', 'own-site+not-invited', 'other-site+invited', 'other-site+not-invited'] as const;
type Relation = (typeof relations)[number];

const actions = [
  'list-all-sessions',
  'schedule-session',
  'view-session',
  'export-ics',
  'edit-session',
  'attach-case',
  'share-study-live',
  'cancel-session',
  'export-session-record',
  'open-room-page',
  'join-socket-room',
  'manage-sites',
  'manage-accounts',
  'read-audit',
] as const;
type Action = (typeof actions)[number];

function expected(role: Role, relation: Relation, action: Action): boolean {
  const invited = relation.endsWith('+invited');
  const ownSite = relation.startsWith('own-site');
  const manages = role === 'admin' || (role === 'coordinator' && ownSite);
  switch (action) {
    case 'list-all-sessions':
    case 'schedule-session':
      return role === 'admin' || role === 'coordinator';
    case 'view-session':
    case 'export-ics':
      return invited || manages;
    case 'edit-session':
    case 'attach-case':
    case 'cancel-session':
    case 'export-session-record':
      // The record (with its chat) also goes to the session's host, who is not among these accounts.
      return manages;
    case 'share-study-live':
      // Into the live session from the room's study browser: also invited coordinators.
      return manages || (invited && role === 'coordinator');
    case 'open-room-page':
    case 'join-socket-room':
      // Admins run the system; they enter a conference only when invited like anyone else.
      return invited;
    case 'manage-sites':
    case 'manage-accounts':
    case 'read-audit':
      return role === 'admin';
  }
}

describe('authorisation matrix', () => {
  let stack: Stack;
  let redis: RedisClient;
  let sessions: SessionStore;
  let host: TestAccount;
  const people = new Map<string, TestAccount>();
  let session: Session;
  let slot = 0;

  /** A future session of the same host for actions that change it (each check gets its own). */
  async function spareSession(): Promise<Session> {
    slot += 1;
    const start = new Date(Date.UTC(nextYear, 5, 1) + slot * 2 * 3600_000);
    const { session: spare } = await sessions.create(
      {
        title: `変更用 ${slot}`,
        startsAt: start.toISOString(),
        endsAt: new Date(start.getTime() + 3600_000).toISOString(),
        invitedAccountIds: session.invitedAccountIds,
        allowDoubleBooking: true,
      },
      host.account,
    );
    return spare;
  }

  const sampleCase = {
    patientRef: 'MX-1',
    studyInstanceUids: ['1.2.3.4'],
    consent: { documentNumber: 'IC-1', recordedBy: '担当医', recordedAt: '2026-05-01T10:00' },
  };

  /** Whether the server let `who` do `action` (2xx) or refused it (401/403). Anything else fails. */
  async function attempt(who: TestAccount, action: Action): Promise<boolean> {
    const allowedStatus = async (status: Promise<number>) => {
      const code = await status;
      if (code >= 200 && code < 300) return true;
      if (code === 401 || code === 403) return false;
      throw new Error(`${action} answered ${code}`);
    };
    const call = (method: string, path: string, body?: unknown) =>
      allowedStatus(api(stack.webUrl, who, method, path, body).then((answer) => answer.status));
    const id = session.id;
    switch (action) {
      case 'list-all-sessions':
        return call('GET', '/api/v1/sessions?scope=all');
      case 'schedule-session': {
        slot += 1;
        const start = new Date(Date.UTC(nextYear + 1, 0, 1) + slot * 2 * 3600_000).toISOString();
        return call('POST', '/api/v1/sessions', {
          title: '権限確認',
          startsAt: start,
          endsAt: new Date(Date.parse(start) + 3600_000).toISOString(),
          allowDoubleBooking: true,
        });
      }
      case 'view-session':
        return call('GET', `/api/v1/sessions/${id}`);
      case 'export-ics':
        return allowedStatus(
          page(stack.webUrl, who, `/sessions/${id}/calendar.ics`).then((response) => response.status),
        );
      case 'edit-session':
        return call('PATCH', `/api/v1/sessions/${(await spareSession()).id}`, { description: '変更' });
      case 'attach-case':
        return call('POST', `/api/v1/sessions/${(await spareSession()).id}/cases`, sampleCase);
      case 'share-study-live':
        return call('POST', `/api/v1/sessions/${id}/cases`, sampleCase);
      case 'cancel-session':
        return call('POST', `/api/v1/sessions/${(await spareSession()).id}/cancel`, {});
      case 'export-session-record':
        return call('GET', `/api/v1/sessions/${id}/record`);
      case 'open-room-page':
        return allowedStatus(page(stack.webUrl, who, `/sessions/${id}`).then((response) => response.status));
      case 'join-socket-room':
        return socketMayEnter(who, id);
      case 'manage-sites':
        return call('POST', '/api/v1/sites', {
          id: `matrix-${slot++}-${who.account.username}`.slice(0, 60),
          nameJa: '権限確認病院',
          nameEn: 'Matrix Hospital',
          kind: 'clinic',
        });
      case 'manage-accounts':
        return call('POST', '/api/v1/accounts', {
          username: `mx${slot++}${who.account.username}`.slice(0, 30),
          displayName: '権限 確認',
          siteId: 'matrix-hub',
          roles: ['observer'],
          password: 'matrix-password-123',
        });
      case 'read-audit':
        return call('GET', '/api/v1/audit?limit=1');
    }
  }

  /** Asks signaling for the session's media capabilities: the first step of entering the room. */
  async function socketMayEnter(who: TestAccount, sessionId: string): Promise<boolean> {
    const tokenAnswer = await page(stack.webUrl, who, '/api/signaling-token');
    const { token } = (await tokenAnswer.json()) as { token: string };
    const socket = io(stack.signalingUrl, { auth: { token }, transports: ['websocket'], reconnection: false });
    try {
      const ack = (await socket.timeout(10_000).emitWithAck('session:capabilities', { sessionId })) as {
        ok: boolean;
        error?: { code: string };
      };
      if (!ack.ok && ack.error?.code !== 'forbidden') throw new Error(`join answered ${ack.error?.code}`);
      return ack.ok;
    } finally {
      socket.close();
    }
  }

  beforeAll(async () => {
    stack = await launchThrowawayStack({ sfuWorkers: 1 });
    redis = await connectRedis(stack.redisUrl, () => undefined);
    sessions = new SessionStore(redis, pino({ level: 'silent' }));
    await ensureSite(redis, 'matrix-hub', 'マトリクス大学病院', 'Matrix University Hospital');
    await ensureSite(redis, 'matrix-island', 'マトリクス島病院', 'Matrix Island Hospital');
    host = await testAccount(redis, 'matrix-host', 'matrix-hub', ['coordinator', 'specialist']);
    for (const role of roles) {
      for (const relation of relations) {
        const site = relation.startsWith('own-site') ? 'matrix-hub' : 'matrix-island';
        const username = `${role}-${relation.replace(/[^a-z]+/g, '-')}`.slice(0, 32).replace(/-$/, '');
        people.set(`${role}|${relation}`, await testAccount(redis, username, site, [role]));
      }
    }
    const invited = [...people.entries()]
      .filter(([key]) => key.endsWith('+invited'))
      .map(([, person]) => person.account.id);
    const now = Date.now();
    ({ session } = await sessions.create(
      {
        title: '権限マトリクス検証',
        startsAt: new Date(now - 10 * 60_000).toISOString(),
        endsAt: new Date(now + 3 * 3600_000).toISOString(),
        invitedAccountIds: invited,
        allowDoubleBooking: true,
      },
      host.account,
    ));
  });

  afterAll(async () => {
    await redis?.close();
    await stack?.stop();
  });

  it('allows and refuses exactly as the rules say, for every role, action and relation', async () => {
    onTestFailed(async () => console.error(await stack.logTails()));
    const mismatches: string[] = [];
    let checked = 0;
    for (const role of roles) {
      for (const relation of relations) {
        const who = people.get(`${role}|${relation}`)!;
        for (const action of actions) {
          const allowed = await attempt(who, action);
          checked += 1;
          if (allowed !== expected(role, relation, action)) {
            mismatches.push(`${role} / ${relation} / ${action}: ${allowed ? 'allowed' : 'refused'}`);
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBe(roles.length * relations.length * actions.length);
  });
});
