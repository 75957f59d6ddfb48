import { describe, expect, it } from 'vitest';
import { PASSWORD_IS_USERNAME, newPasswordIssues, newPasswordSchema } from './password-policy.ts';

describe('new password policy', () => {
  it('accepts 10 to 256 characters that are not the username', () => {
    expect(newPasswordIssues('umi-no-mukou-2026', 'sato')).toEqual([]);
    expect(newPasswordIssues('a'.repeat(256), 'sato')).toEqual([]);
    expect(newPasswordSchema.safeParse('長いパスワードです、十文字').success).toBe(true);
  });

  it('names the field and the limit when the length is wrong', () => {
    expect(newPasswordIssues('short', 'sato', 'newPassword')).toEqual([
      { field: 'newPassword', code: 'too_short', message: 'at least 10 characters', limit: 10 },
    ]);
    expect(newPasswordIssues('a'.repeat(257), 'sato')[0]).toMatchObject({ code: 'too_long', limit: 256 });
    expect(newPasswordIssues('', 'sato')[0]).toMatchObject({ code: 'required' });
    expect(newPasswordIssues(undefined, 'sato')[0]).toMatchObject({ code: 'required' });
  });

  it('refuses the username, whatever its case or width', () => {
    expect(newPasswordIssues('kobayashi1', 'kobayashi1')).toEqual([
      { field: 'password', code: 'invalid_value', message: PASSWORD_IS_USERNAME },
    ]);
    expect(newPasswordIssues('KOBAYASHI1', 'kobayashi1')[0]?.code).toBe('invalid_value');
    expect(newPasswordIssues('ｋｏｂａｙａｓｈｉ１', 'kobayashi1')[0]?.code).toBe('invalid_value');
  });
});
