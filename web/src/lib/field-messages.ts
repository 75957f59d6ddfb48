import type { FieldIssue, FieldIssueCode } from '@telemed/domain';
import type { Language } from './i18n.ts';

/**
 * Field-level input problems (from the domain's validation) as sentences beside the field, in
 * the UI's language.
 */
const texts: Record<FieldIssueCode, Record<Language, (limit?: number) => string>> = {
  required: { ja: () => '入力してください。', en: () => 'Required.' },
  too_short: { ja: (n) => `${n}文字以上で入力してください。`, en: (n) => `At least ${n} characters.` },
  too_long: { ja: (n) => `${n}文字以内で入力してください。`, en: (n) => `At most ${n} characters.` },
  too_many: { ja: (n) => `${n}件までです。`, en: (n) => `At most ${n}.` },
  invalid_format: { ja: () => '形式が正しくありません。', en: () => 'Not in the expected format.' },
  invalid_value: { ja: () => '値が正しくありません。', en: () => 'Not a valid value.' },
  end_before_start: { ja: () => '終了は開始より後にしてください。', en: () => 'The end must be after the start.' },
  too_long_duration: {
    ja: (n) => `開催時間は${n}時間以内にしてください。`,
    en: (n) => `A session can last at most ${n} hours.`,
  },
  bad_time_zone: { ja: () => 'タイムゾーンが正しくありません。', en: () => 'Unknown time zone.' },
  unknown_site: { ja: () => '登録されていない施設です。', en: () => 'Unknown site.' },
  unknown_account: {
    ja: () => '登録されていないか無効なアカウントです。',
    en: () => 'Unknown or deactivated account.',
  },
  taken: { ja: () => 'すでに使われています。', en: () => 'Already taken.' },
  stale: {
    ja: () => '他の人が先に変更しました。読み込み直してください。',
    en: () => 'Someone else changed this meanwhile; reload it.',
  },
};

export function fieldMessage(issue: Pick<FieldIssue, 'code' | 'limit'>, language: Language): string {
  return texts[issue.code][language](issue.limit);
}

/**
 * The message for a field (matching `field` itself or an element of it, e.g. `invitedSiteIds`
 * for `invitedSiteIds.2`), or undefined.
 */
export function messageFor(issues: readonly FieldIssue[] | undefined, field: string, language: Language) {
  const found = issues?.find((issue) => issue.field === field || issue.field.startsWith(`${field}.`));
  return found ? fieldMessage(found, language) : undefined;
}
