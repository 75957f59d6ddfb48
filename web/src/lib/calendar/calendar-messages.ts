import { defineMessages } from '#lib/i18n.ts';

/** The calendar export's words: the subscription page and the per-session download link. */
export const calendarMessages = defineMessages(
  {
    pageTitle: 'カレンダー連携',
    intro:
      'あなたが主催・招待されているカンファレンスを、Google カレンダー・Outlook・Thunderbird などに自動で表示できます。日時の変更や中止も反映されます（90日前以降のもの）。',
    privacy:
      'カレンダーには件名・日時・参加施設・会議室のアドレスだけが載り、症例や患者の情報は含まれません。このURLを知っている人は誰でもあなたの予定を見られるため、パスワードと同じように扱ってください。',
    yourUrl: 'あなたのカレンダーURL',
    shownOnce: 'このURLは今だけ表示されます。カレンダーアプリに登録してからページを閉じてください。',
    copy: 'コピー',
    copied: 'コピーしました',
    copyFailed: 'コピーできませんでした。URLを選択してコピーしてください。',
    openInApp: 'カレンダーアプリで開く',
    activeSince: 'カレンダーURLは発行済みです（発行日時：{time}）。安全のため、同じURLを再表示することはできません。',
    noFeed: 'カレンダーURLはまだ発行されていません。',
    issue: 'カレンダーURLを発行',
    renew: 'URLを再発行',
    renewNote: '再発行すると、これまでのURLは使えなくなります（登録済みのカレンダーは更新されなくなります）。',
    revoke: 'URLを無効にする',
    revoked: 'カレンダーURLを無効にしました。',
    howToTitle: '登録のしかた',
    googleTitle: 'Google カレンダー',
    googleSteps:
      'パソコンで Google カレンダーを開き、左の「他のカレンダー」の「＋」→「URL で追加」を選び、URLを貼り付けて「カレンダーを追加」を押します。Google による更新は数時間おきのため、変更の反映に時間がかかることがあります。',
    outlookTitle: 'Outlook',
    outlookSteps:
      '新しい Outlook・Outlook on the web：予定表の「予定表を追加」→「Web から購読」にURLを貼り付けて「インポート」。従来の Outlook：「ホーム」→「予定表を開く」→「インターネットから」にURLを貼り付けます。',
    thunderbirdTitle: 'Thunderbird',
    thunderbirdSteps:
      'カレンダー画面で「新しいカレンダー」→「ネットワーク上」を選び、「場所」にURLを貼り付けて「カレンダーを探す」→「購読」を押します。',
    downloadSession: 'カレンダーに追加（.ics）',
  },
  {
    pageTitle: 'Calendar subscription',
    intro:
      'Show the conferences you host or are invited to in Google Calendar, Outlook, Thunderbird and other calendar apps. Changes and cancellations follow automatically (conferences from 90 days ago on).',
    privacy:
      'The calendar holds only titles, times, sites and the room’s address, never cases or patient information. Anyone who knows this URL can see your schedule, so treat it like a password.',
    yourUrl: 'Your calendar URL',
    shownOnce: 'This URL is shown only now. Add it to your calendar app before leaving this page.',
    copy: 'Copy',
    copied: 'Copied',
    copyFailed: 'Could not copy. Select the URL and copy it.',
    openInApp: 'Open in calendar app',
    activeSince: 'You have a calendar URL (issued {time}). For your safety the same URL cannot be shown again.',
    noFeed: 'You have no calendar URL yet.',
    issue: 'Create calendar URL',
    renew: 'Renew URL',
    renewNote: 'Renewing stops the old URL (calendars subscribed to it will no longer update).',
    revoke: 'Turn off URL',
    revoked: 'Your calendar URL was turned off.',
    howToTitle: 'How to subscribe',
    googleTitle: 'Google Calendar',
    googleSteps:
      'On a computer, open Google Calendar, click “+” next to “Other calendars”, choose “From URL”, paste the URL and click “Add calendar”. Google refreshes subscriptions every few hours, so changes may take a while to appear.',
    outlookTitle: 'Outlook',
    outlookSteps:
      'New Outlook and Outlook on the web: in Calendar choose “Add calendar” → “Subscribe from web”, paste the URL and click “Import”. Classic Outlook: “Home” → “Open Calendar” → “From Internet”, then paste the URL.',
    thunderbirdTitle: 'Thunderbird',
    thunderbirdSteps:
      'In the Calendar tab choose “New Calendar…” → “On the Network”, paste the URL as the location, then “Find Calendars” → “Subscribe”.',
    downloadSession: 'Add to calendar (.ics)',
  },
);
