import { defineMessages } from '../i18n.ts';

/**
 * Words of sign-in protection: the second step of the sign-in page, locks and rate limits, and
 * the account's own password and second-factor pages. `{time}`, `{minutes}` and `{min}` are
 * filled in by the page.
 */
export const signinMessages = defineMessages(
  {
    totpStepTitle: '確認コードの入力',
    totpStepHint: '認証アプリに表示されている6桁の確認コードを入力してください。',
    totpCode: '確認コード',
    verifyTotp: '確認',
    startOver: '最初からやり直す',
    totpFailed: '確認コードが正しくないか、すでに使用されています。次のコードをお待ちください。',
    totpFormat: '6桁の数字を入力してください。',
    totpExpired: '時間切れです。もう一度ユーザー名とパスワードを入力してください。',
    locked:
      'ログインの失敗が続いたため、このユーザー名は一時的にロックされています。{time}以降にもう一度お試しください。',
    rateLimited: 'ログインの試行が多すぎます。約{minutes}分後にもう一度お試しください。',

    accountSettings: 'アカウント設定',
    passwordTitle: 'パスワードの変更',
    mustChangePassword: '管理者がパスワードをリセットしました。続けるには新しいパスワードを設定してください。',
    currentPassword: '現在のパスワード',
    newPassword: '新しいパスワード',
    confirmPassword: '新しいパスワード（確認）',
    passwordRule: '{min}文字以上。ユーザー名と同じものは使えません。',
    changePassword: 'パスワードを変更',
    passwordChanged: 'パスワードを変更しました。',
    wrongCurrentPassword: '現在のパスワードが正しくありません。',
    passwordMismatch: '確認用のパスワードが一致しません。',
    passwordIsUsername: 'ユーザー名と同じパスワードは使えません。',
    accountLocked: '失敗が続いたため一時的にロックされています。{time}以降にもう一度お試しください。',

    securityTitle: '2段階認証（確認コード）',
    totpOn: '2段階認証は有効です。ログイン時に認証アプリの確認コードが必要です。',
    totpOff: '2段階認証は無効です。',
    totpRequired: 'あなたの役割（管理者・コーディネーター）では2段階認証が必須です。',
    mustEnrolTotp: '続けるには2段階認証を設定してください。',
    enrolSteps:
      '1. 認証アプリ（Google Authenticator、Microsoft Authenticator など）で QR コードを読み取ります。2. アプリに表示された6桁のコードを入力して「有効にする」を押します。',
    qrAlt: '認証アプリに登録するための QR コード',
    secretLabel: 'QR コードを読み取れない場合は、このキーを手入力してください',
    enableTotp: '有効にする',
    totpEnabled: '2段階認証を有効にしました。',
    disableTotpHint: '無効にするには現在のパスワードを入力してください。',
    disableTotp: '2段階認証を無効にする',
    totpDisabled: '2段階認証を無効にしました。',
    cannotDisableTotp: 'あなたの役割では2段階認証を無効にできません。',
    enrolmentExpired: '時間が経ったため新しい QR コードを表示しました。もう一度読み取ってください。',
    wrongTotpCode: '確認コードが正しくありません。アプリに表示中のコードを入力してください。',
  },
  {
    totpStepTitle: 'Enter your verification code',
    totpStepHint: 'Enter the 6-digit code shown in your authenticator app.',
    totpCode: 'Verification code',
    verifyTotp: 'Verify',
    startOver: 'Start over',
    totpFailed: 'The code is wrong or has already been used. Wait for the next code.',
    totpFormat: 'Enter six digits.',
    totpExpired: 'This took too long. Enter your username and password again.',
    locked: 'After repeated failed sign-ins this username is temporarily locked. Try again after {time}.',
    rateLimited: 'Too many sign-in attempts. Try again in about {minutes} minutes.',

    accountSettings: 'Account settings',
    passwordTitle: 'Change password',
    mustChangePassword: 'An administrator reset your password. Choose a new one to continue.',
    currentPassword: 'Current password',
    newPassword: 'New password',
    confirmPassword: 'New password (again)',
    passwordRule: 'At least {min} characters, and not your username.',
    changePassword: 'Change password',
    passwordChanged: 'Your password has been changed.',
    wrongCurrentPassword: 'The current password is wrong.',
    passwordMismatch: 'The two new passwords differ.',
    passwordIsUsername: 'The password must not be your username.',
    accountLocked: 'Temporarily locked after repeated failures. Try again after {time}.',

    securityTitle: 'Two-step verification (codes)',
    totpOn: 'Two-step verification is on. Signing in needs a code from your authenticator app.',
    totpOff: 'Two-step verification is off.',
    totpRequired: 'Your role (administrator or coordinator) requires two-step verification.',
    mustEnrolTotp: 'Set up two-step verification to continue.',
    enrolSteps:
      '1. Scan the QR code with an authenticator app (Google Authenticator, Microsoft Authenticator, …). 2. Enter the 6-digit code it shows and press “Turn on”.',
    qrAlt: 'QR code to add this account to an authenticator app',
    secretLabel: 'If the QR code cannot be scanned, type this key instead',
    enableTotp: 'Turn on',
    totpEnabled: 'Two-step verification is now on.',
    disableTotpHint: 'Enter your current password to turn it off.',
    disableTotp: 'Turn off two-step verification',
    totpDisabled: 'Two-step verification is now off.',
    cannotDisableTotp: 'Your role does not allow turning off two-step verification.',
    enrolmentExpired: 'That took a while, so here is a new QR code. Please scan it again.',
    wrongTotpCode: 'The code is wrong. Enter the code your app shows now.',
  },
);

/** A message with its `{name}` placeholders filled in. */
export function fillIn(message: string, values: Record<string, string | number>): string {
  return message.replace(/\{(\w+)\}/g, (whole, name: string) => String(values[name] ?? whole));
}
