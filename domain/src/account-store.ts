import { randomUUID } from 'node:crypto';
import { RedisStore } from './redis-store.ts';
import { readRecord } from './json-records.ts';
import { hashPassword, verifyPassword } from './password.ts';
import { accountSchema, usernameSchema, type Account, type Role } from './records.ts';

const accountKey = (id: string) => `account:${id}`;
const usernameKey = (username: string) => `account:username:${username}`;

export interface NewAccount {
  username: string;
  password: string;
  displayName: string;
  siteId: string;
  roles: Role[];
}

export class AccountStore extends RedisStore {
  async get(id: string): Promise<Account | null> {
    return readRecord(this.redis, accountKey(id), accountSchema, this.warnings);
  }

  async findByUsername(username: string): Promise<Account | null> {
    const parsed = usernameSchema.safeParse(username);
    if (!parsed.success) return null;
    const id = await this.redis.get(usernameKey(parsed.data));
    return id ? this.get(id) : null;
  }

  /** Creates an account; returns null (and changes nothing) when the username is taken. */
  async create(input: NewAccount): Promise<Account | null> {
    const account = accountSchema.parse({
      id: randomUUID(),
      username: input.username,
      displayName: input.displayName,
      siteId: input.siteId,
      roles: input.roles,
      passwordHash: await hashPassword(input.password),
      active: true,
      createdAt: new Date().toISOString(),
    });
    const claimed = await this.redis.set(usernameKey(account.username), account.id, { condition: 'NX' });
    if (claimed === null) return null;
    await this.redis.set(accountKey(account.id), JSON.stringify(account));
    return account;
  }

  /** The active account with this username and password, or null; always costs one hash. */
  async authenticate(username: string, password: string): Promise<Account | null> {
    const account = await this.findByUsername(username);
    const matches = await verifyPassword(password, account?.passwordHash ?? null);
    return matches && account?.active ? account : null;
  }
}
