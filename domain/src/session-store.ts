import { randomUUID } from 'node:crypto';
import { RedisStore } from './redis-store.ts';
import { readRecord, readRecords } from './json-records.ts';
import { sessionSchema, type Account, type Session } from './records.ts';

const sessionKey = (id: string) => `session:${id}`;
/** Sorted set of session ids by start time (ms since the epoch). */
const BY_START = 'sessions:by-start';

export type NewSession = Omit<Session, 'id' | 'status' | 'createdAt' | 'updatedAt'> & { id?: string };

/** Whether the account may enter the session's room: invited itself, its site invited, or host. */
export function mayJoin(account: Account, session: Session): boolean {
  if (!account.active || session.status === 'cancelled' || session.status === 'ended') return false;
  return (
    session.hostAccountId === account.id ||
    session.invitedAccountIds.includes(account.id) ||
    session.invitedSiteIds.includes(account.siteId)
  );
}

export class SessionStore extends RedisStore {
  async get(id: string): Promise<Session | null> {
    return readRecord(this.redis, sessionKey(id), sessionSchema, this.warnings);
  }

  /** Stores a new session; returns null (and changes nothing) when the id is taken. */
  async create(input: NewSession): Promise<Session | null> {
    const now = new Date().toISOString();
    const session = sessionSchema.parse({
      ...input,
      id: input.id ?? randomUUID(),
      status: 'scheduled',
      createdAt: now,
      updatedAt: now,
    });
    if (Date.parse(session.endsAt) <= Date.parse(session.startsAt)) {
      throw new RangeError('a session must end after it starts');
    }
    const stored = await this.redis.set(sessionKey(session.id), JSON.stringify(session), { condition: 'NX' });
    if (stored === null) return null;
    await this.redis.zAdd(BY_START, { score: Date.parse(session.startsAt), value: session.id });
    return session;
  }

  /** Sessions the account may join, earliest start first. */
  async listJoinable(account: Account): Promise<Session[]> {
    const ids = await this.redis.zRange(BY_START, 0, -1);
    const sessions = await readRecords(this.redis, ids.map(sessionKey), sessionSchema, this.warnings);
    return sessions.filter((session) => mayJoin(account, session));
  }
}
