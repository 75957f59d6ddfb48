import { describe, expect, it } from 'vitest';
import { resumeTokenSchema } from '@telemed/contract';
import { ResumeToken } from './resume-token.ts';

describe('ResumeToken', () => {
  it('issues tokens the contract accepts, each different', () => {
    const first = ResumeToken.issue();
    const second = ResumeToken.issue();
    expect(resumeTokenSchema.safeParse(first.token).success).toBe(true);
    expect(first.token).not.toBe(second.token);
  });

  it('matches only its own token', () => {
    const { token, check } = ResumeToken.issue();
    expect(check.matches(token)).toBe(true);
    expect(check.matches(ResumeToken.issue().token)).toBe(false);
    expect(check.matches('')).toBe(false);
  });
});
