import { CHAT_MAX_MESSAGES_PER_SESSION, CHAT_RATE_LIMIT, CHAT_TEXT_MAX_LENGTH } from '@telemed/contract';
import { defineMessages } from '#lib/i18n.ts';
import type { ChatProblem } from './room-chat.svelte.ts';

/** The words of the room's chat. */
export const chatPanelMessages = defineMessages(
  {
    tab: 'チャット',
    showPanel: 'チャット・参加者を表示',
    hidePanel: 'チャット・参加者を隠す',
    empty: 'まだメッセージはありません。',
    label: 'メッセージ',
    placeholder: 'メッセージを入力（Enter で送信、Shift+Enter で改行）',
    send: '送信',
    attachStudy: '検査を添付',
    noStudy: '添付しない',
    studyNumber: '検査 {n}',
    caseFallback: '症例',
    showStudy: '画像を表示',
    unknownStudy: '検査 {uid}',
    loadEarlier: '以前のメッセージを表示',
    you: 'あなた',
    errorEmpty: 'メッセージを入力してください。',
    errorTooLong: `${CHAT_TEXT_MAX_LENGTH}文字以内で入力してください。`,
    errorControl: '使用できない制御文字が含まれています。',
    errorRate: `短時間に送信できるのは${CHAT_RATE_LIMIT.messages}件までです。少し待ってから送信してください。`,
    errorFull: `このカンファレンスのチャットは上限（${CHAT_MAX_MESSAGES_PER_SESSION}件）に達したため、これ以上送信できません。`,
    errorStudy: '添付した検査はこのカンファレンスの症例ではありません。',
    errorFailed: '送信できませんでした。接続を確認してください。',
    historyFailed: 'これまでのメッセージを読み込めませんでした。',
  },
  {
    tab: 'Chat',
    showPanel: 'Show chat and participants',
    hidePanel: 'Hide chat and participants',
    empty: 'No messages yet.',
    label: 'Message',
    placeholder: 'Type a message (Enter sends, Shift+Enter starts a new line)',
    send: 'Send',
    attachStudy: 'Attach a study',
    noStudy: 'No study',
    studyNumber: 'study {n}',
    caseFallback: 'Case',
    showStudy: 'Show images',
    unknownStudy: 'Study {uid}',
    loadEarlier: 'Show earlier messages',
    you: 'You',
    errorEmpty: 'Type a message first.',
    errorTooLong: `At most ${CHAT_TEXT_MAX_LENGTH} characters.`,
    errorControl: 'The message contains control characters that cannot be sent.',
    errorRate: `At most ${CHAT_RATE_LIMIT.messages} messages in a short time. Wait a moment, then send again.`,
    errorFull: `This conference’s chat has reached its limit of ${CHAT_MAX_MESSAGES_PER_SESSION} messages; no more can be sent.`,
    errorStudy: 'The attached study is not one of this conference’s cases.',
    errorFailed: 'The message could not be sent. Check the connection.',
    historyFailed: 'The earlier messages could not be loaded.',
  },
);

type ChatPanelMessages = ReturnType<typeof chatPanelMessages>;

const problemKeys: Record<ChatProblem, keyof ChatPanelMessages> = {
  empty: 'errorEmpty',
  too_long: 'errorTooLong',
  control_characters: 'errorControl',
  rate_limited: 'errorRate',
  limit_reached: 'errorFull',
  unknown_study: 'errorStudy',
  failed: 'errorFailed',
  history_failed: 'historyFailed',
};

/** What went wrong with sending (or reading) the chat, in the user's language. */
export function chatProblemMessage(words: ChatPanelMessages, problem: ChatProblem): string {
  return words[problemKeys[problem]];
}
