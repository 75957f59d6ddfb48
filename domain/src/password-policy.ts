import { z } from 'zod';
import { issue, type FieldIssue } from './field-issues.ts';

/**
 * What a new password must be (chosen by its owner, or set by an admin on create or reset):
 * long enough to resist guessing (length over composition rules, as NIST SP 800-63B advises),
 * short enough not to make scrypt a denial-of-service lever, and not the username.
 */
export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

export const newPasswordSchema = z.string().min(PASSWORD_MIN_LENGTH).max(PASSWORD_MAX_LENGTH);

/** The message of the issue raised when the password is the username (its code is `invalid_value`). */
export const PASSWORD_IS_USERNAME = 'the password must not be the username';

/** Compared as the hash sees the password (NFKC) and as usernames are stored (trimmed, lower case). */
export function passwordIsUsername(password: string, username: string): boolean {
  return password.normalize('NFKC').trim().toLowerCase() === username.normalize('NFKC').trim().toLowerCase();
}

/** Everything wrong with `password` as a new password for `username`, reported on `field`. */
export function newPasswordIssues(password: unknown, username: string, field = 'password'): FieldIssue[] {
  const parsed = newPasswordSchema.safeParse(password);
  if (!parsed.success) {
    if (typeof password !== 'string' || password.length === 0) return [issue(field, 'required', 'required')];
    return password.length < PASSWORD_MIN_LENGTH
      ? [issue(field, 'too_short', `at least ${PASSWORD_MIN_LENGTH} characters`, PASSWORD_MIN_LENGTH)]
      : [issue(field, 'too_long', `at most ${PASSWORD_MAX_LENGTH} characters`, PASSWORD_MAX_LENGTH)];
  }
  return passwordIsUsername(parsed.data, username) ? [issue(field, 'invalid_value', PASSWORD_IS_USERNAME)] : [];
}
