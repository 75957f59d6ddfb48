import { randomInt, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { RedisStore } from './redis-store.ts';
import { readRecord, readRecords } from './json-records.ts';
import { hashPassword, verifyPassword } from './password.ts';
import {
  accountSchema,
  displayNameSchema,
  roles,
  siteIdSchema,
  totpFactorSchema,
  usernameSchema,
  type Account,
  type Role,
} from './records.ts';
import { InputError, issue, parseInput, type FieldIssue } from './field-issues.ts';
import { PASSWORD_IS_USERNAME, newPasswordIssues, newPasswordSchema, passwordIsUsername } from './password-policy.ts';
import { replaceIfUnchanged } from './replace-if-unchanged.ts';
import { fieldChanges, type FieldChanges } from './field-changes.ts';

const accountKey = (id: string) => `account:${id}`;
const usernameKey = (username: string) => `account:username:${username}`;

export interface NewAccount {
  username: string;
  password: string;
  displayName: string;
  siteId: string;
  roles: Role[];
  /** Set for accounts an admin creates: the person chooses their own password at first sign-in. */
  mustChangePassword?: boolean;
}

const accountRolesSchema = z.array(z.enum(roles)).min(1).max(roles.length);

/** A new account, as an admin enters it (the web form and `POST /api/v1/accounts`). */
export const accountDraftSchema = z
  .object({
    username: usernameSchema,
    displayName: displayNameSchema,
    siteId: siteIdSchema,
    roles: accountRolesSchema,
    /** The initial password, told to the person; they must change it at first sign-in. */
    password: newPasswordSchema,
  })
  .superRefine((draft, context) => {
    // zod runs this even when a field failed a length check; one issue per field is enough.
    if (newPasswordSchema.safeParse(draft.password).success && passwordIsUsername(draft.password, draft.username)) {
      context.addIssue({ code: 'custom', path: ['password'], message: PASSWORD_IS_USERNAME });
    }
  });
export type AccountDraft = z.input<typeof accountDraftSchema>;

/** A change to an account: only the fields given change. Usernames never change (they are the sign-in ID). */
export const accountPatchSchema = z.object({
  displayName: displayNameSchema.optional(),
  siteId: siteIdSchema.optional(),
  roles: accountRolesSchema.optional(),
});
export type AccountPatch = z.input<typeof accountPatchSchema>;

const isAccountId = (id: string) => accountSchema.shape.id.safeParse(id).success;
/** Fields of an account that no change report may show. */
const SECRET_FIELDS = ['passwordHash', 'totp', 'updatedAt'] as const;
/** Letters and digits that cannot be mistaken for one another when read out or copied by hand. */
const TEMPORARY_PASSWORD_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** A random temporary password such as `k7mq-2xpt-9rwd` (about 59 bits). */
function temporaryPassword(): string {
  const group = () => Array.from({ length: 4 }, () => TEMPORARY_PASSWORD_ALPHABET[randomInt(31)]).join('');
  return [group(), group(), group()].join('-');
}

export class AccountStore extends RedisStore {
  async get(id: string): Promise<Account | null> {
    if (!isAccountId(id)) return null;
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
      mustChangePassword: input.mustChangePassword ?? false,
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

  /**
   * Sets a password its owner chose (checked against the password policy: an InputError on
   * `newPassword` otherwise) and clears `mustChangePassword`. Null when the account is gone.
   */
  async changePassword(id: string, newPassword: string): Promise<Account | null> {
    const current = await this.get(id);
    if (!current) return null;
    const issues = newPasswordIssues(newPassword, current.username, 'newPassword');
    if (issues.length > 0) throw new InputError(issues);
    const passwordHash = await hashPassword(newPassword);
    return this.replaceAccountFields(id, () => ({ passwordHash, mustChangePassword: false }));
  }

  /** Makes a confirmed TOTP secret the account's second factor. Null when the account is gone. */
  async enableTotp(id: string, secret: string): Promise<Account | null> {
    const totp = totpFactorSchema.parse({ secret, enabledAt: new Date().toISOString() });
    return this.replaceAccountFields(id, () => ({ totp }));
  }

  async disableTotp(id: string): Promise<Account | null> {
    return this.replaceAccountFields(id, () => ({ totp: null }));
  }

  /**
   * Every account (active or not) by username. Found by their keys, so accounts stored before
   * any index existed are listed too; damaged records are reported and skipped.
   */
  async list(): Promise<Account[]> {
    const keys: string[] = [];
    for await (const batch of this.redis.scanIterator({
      MATCH: accountKey('????????-????-????-????-????????????'),
      COUNT: 500,
      TYPE: 'string',
    })) {
      keys.push(...batch);
    }
    const accounts = await readRecords(this.redis, keys, accountSchema, this.warnings);
    return accounts.sort((a, b) => a.username.localeCompare(b.username));
  }

  /**
   * Creates an account an admin entered. InputError for bad fields, an unknown site or a taken
   * username; nothing is stored then. The person must choose a new password at first sign-in.
   */
  async register(input: unknown): Promise<Account> {
    const draft = parseInput(accountDraftSchema, input);
    await this.requireSite(draft.siteId);
    const account = await this.create({
      ...draft,
      roles: [...new Set(draft.roles)],
      mustChangePassword: true,
    });
    if (!account) throw new InputError([issue('username', 'taken', `the username ${draft.username} is taken`)]);
    return account;
  }

  /**
   * Changes the name, site or roles. InputError for bad fields, an unknown site or an attempt to
   * change the username; null for an unknown account. Returns the account and what changed.
   */
  async update(id: string, input: unknown): Promise<{ account: Account; changes: FieldChanges } | null> {
    const fixed: FieldIssue[] = ['id', 'username', 'password', 'passwordHash']
      .filter((field) => typeof input === 'object' && input !== null && field in input)
      .map((field) => issue(field, 'invalid_value', `${field} cannot be changed here`));
    if (fixed.length > 0) throw new InputError(fixed);
    const patch = parseInput(accountPatchSchema, input);
    if (patch.siteId !== undefined) await this.requireSite(patch.siteId);
    if (!isAccountId(id)) return null;
    let previous: Account | undefined;
    const account = await this.replaceAccountFields(id, (current) => {
      previous = current;
      return {
        ...(patch.displayName !== undefined ? { displayName: patch.displayName } : {}),
        ...(patch.siteId !== undefined ? { siteId: patch.siteId } : {}),
        ...(patch.roles !== undefined ? { roles: [...new Set(patch.roles)] } : {}),
      };
    });
    return account && previous ? { account, changes: fieldChanges(previous, account, SECRET_FIELDS) } : null;
  }

  /**
   * Gives the account a random temporary password, to be told to the person once; they must
   * choose their own at the next sign-in. Null for an unknown account.
   */
  async resetPassword(id: string): Promise<{ account: Account; temporaryPassword: string } | null> {
    if (!isAccountId(id)) return null;
    const current = await this.get(id);
    if (!current) return null;
    let password = temporaryPassword();
    while (passwordIsUsername(password, current.username)) password = temporaryPassword();
    const passwordHash = await hashPassword(password);
    const account = await this.replaceAccountFields(id, () => ({ passwordHash, mustChangePassword: true }));
    return account && { account, temporaryPassword: password };
  }

  /**
   * Activates or deactivates the account (an inactive one cannot sign in, and its sign-ins stop
   * working at once). Deactivating should go through `AccountDeactivation`, which also ends the
   * sessions it hosts. Null for an unknown account; `changed` is false when it already was so.
   */
  async setActive(id: string, active: boolean): Promise<{ account: Account; changed: boolean } | null> {
    if (!isAccountId(id)) return null;
    let changed = false;
    const account = await this.replaceAccountFields(id, (current) => {
      changed = current.active !== active;
      return { active };
    });
    return account && { account, changed };
  }

  private async requireSite(siteId: string): Promise<void> {
    if ((await this.redis.exists(`site:${siteId}`)) === 0) {
      throw new InputError([issue('siteId', 'unknown_site', `no site ${siteId}`)]);
    }
  }

  /**
   * Changes some fields of a stored account without losing a concurrent change to others: the
   * record is replaced only if it is still exactly what was read (compared in Redis, atomically),
   * otherwise read again. A record that no longer parses is reported and left alone.
   */
  private async replaceAccountFields(
    id: string,
    change: (account: Account) => Partial<Account>,
  ): Promise<Account | null> {
    const replaced = await replaceIfUnchanged(this.redis, accountKey(id), accountSchema, this.warnings, (current) => ({
      ...current,
      ...change(current),
      updatedAt: new Date().toISOString(),
    }));
    return replaced?.next ?? null;
  }
}
