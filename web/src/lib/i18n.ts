/**
 * The UI's words in Japanese (the default) and English. A typed dictionary rather than an i18n
 * library: the UI has a few dozen fixed strings, and the type checker then guarantees that
 * every key exists in both languages.
 */

export const languages = ['ja', 'en'] as const;
export type Language = (typeof languages)[number];
export const LANGUAGE_COOKIE = 'telemed_lang';

const ja = {
  appName: '離島遠隔カンファレンス',
  appTagline: '大学病院と離島・へき地の病院をつなぐ症例検討と合同読影',
  languageToggle: 'English',
  signIn: 'ログイン',
  signOut: 'ログアウト',
  username: 'ユーザー名',
  password: 'パスワード',
  signInFailed: 'ユーザー名またはパスワードが正しくありません。',
  signInMissing: 'ユーザー名とパスワードを入力してください。',
  signedInAs: 'ログイン中',
  mySessions: 'マイ カンファレンス',
  join: '参加する',
  joining: '接続中…',
  leave: '退室',
  left: '退室しました。',
  rejoin: 'もう一度参加する',
  backToSessions: 'カンファレンス一覧へ',
  muteMic: 'マイクをミュート',
  unmuteMic: 'ミュート解除',
  stopCamera: 'カメラを停止',
  startCamera: 'カメラを開始',
  you: 'あなた',
  micMuted: 'ミュート中',
  cameraOff: 'カメラ停止中',
  waitingForOthers: '他の施設の参加を待っています…',
  beforeJoin: 'カメラとマイクを使用します。準備ができたら「参加する」を押してください。',
  errorDevices: 'カメラまたはマイクを使用できません。ブラウザの許可設定を確認してください。',
  errorConnection: 'サーバーに接続できません。ネットワークを確認してください。',
  errorForbidden: 'このカンファレンスに参加する権限がありません。',
  connectionLost: '接続が切断されました。',
  participants: '参加者',
  speaking: '発言中',
  forbiddenTitle: 'アクセスできません',
} as const;

type Messages = { [K in keyof typeof ja]: string };

const en: Messages = {
  appName: 'Island Telemedicine Conference',
  appTagline: 'Case conferences and joint image reading between the university hospital and remote sites',
  languageToggle: '日本語',
  signIn: 'Sign in',
  signOut: 'Sign out',
  username: 'Username',
  password: 'Password',
  signInFailed: 'Wrong username or password.',
  signInMissing: 'Enter your username and password.',
  signedInAs: 'Signed in as',
  mySessions: 'My sessions',
  join: 'Join',
  joining: 'Connecting…',
  leave: 'Leave',
  left: 'You left the conference.',
  rejoin: 'Join again',
  backToSessions: 'Back to conferences',
  muteMic: 'Mute microphone',
  unmuteMic: 'Unmute',
  stopCamera: 'Stop camera',
  startCamera: 'Start camera',
  you: 'You',
  micMuted: 'Muted',
  cameraOff: 'Camera off',
  waitingForOthers: 'Waiting for the other sites to join…',
  beforeJoin: 'Your camera and microphone will be used. Press “Join” when you are ready.',
  errorDevices: 'The camera or microphone cannot be used. Check the browser’s permissions.',
  errorConnection: 'Cannot reach the server. Check the network.',
  errorForbidden: 'You are not invited to this conference.',
  connectionLost: 'The connection was lost.',
  participants: 'Participants',
  speaking: 'Speaking',
  forbiddenTitle: 'Access denied',
};

export type MessageKey = keyof typeof ja;

const dictionaries: Record<Language, Messages> = { ja, en };

export function messages(language: Language): Messages {
  return dictionaries[language];
}

export function toLanguage(value: string | undefined | null): Language {
  return value === 'en' ? 'en' : 'ja';
}

/**
 * A feature's own words (kept beside the feature), with the same keys in both languages — the
 * type checker refuses a key missing from the English side.
 */
export function defineMessages<const T extends Record<string, string>>(
  ja: T,
  en: { [K in keyof T]: string },
): (language: Language) => { [K in keyof T]: string } {
  return (language) => (language === 'en' ? en : ja);
}

/** A list as each language writes it: 「A、B」 or "A, B". */
export function joinList(items: readonly string[], language: Language): string {
  return items.join(language === 'ja' ? '、' : ', ');
}

/** An aside as each language writes it: 「A（B）」 or "A (B)". */
export function withAside(text: string, aside: string, language: Language): string {
  return language === 'ja' ? `${text}（${aside}）` : `${text} (${aside})`;
}
