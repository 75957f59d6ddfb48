import { defineMessages } from '#lib/i18n.ts';

/** The words of the room's recovery banner and the reconnecting tile badge. */
export const recoveryMessages = defineMessages(
  {
    reconnecting: '再接続中…',
    reconnectingDetail: '通信が途切れました。音声と映像はそのまま、自動で再接続しています。',
    repairingMedia: '映像・音声の経路を立て直しています…',
    rejoining: '接続が長く途切れたため、いったん退出しました。再参加しています…',
    rejoined: '接続が長く途切れたため、いったん退出し、再参加しました。',
    participantLost: '{name}さんは接続が途切れたため退出しました',
    dismiss: '閉じる',
  },
  {
    reconnecting: 'Reconnecting…',
    reconnectingDetail: 'The connection dropped. Sound and video continue; reconnecting automatically.',
    repairingMedia: 'Restoring the media connection…',
    rejoining: 'The connection was lost for too long, so you left the call. Rejoining…',
    rejoined: 'The connection was lost for too long, so you left the call and rejoined it.',
    participantLost: '{name} left because their connection was lost',
    dismiss: 'Dismiss',
  },
);

export type RecoveryMessages = ReturnType<typeof recoveryMessages>;

/** 「〇〇さんは接続が途切れたため退出しました」 for one participant. */
export function participantLostMessage(words: RecoveryMessages, name: string): string {
  return words.participantLost.replace('{name}', name);
}
