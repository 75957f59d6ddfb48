import type { SessionEndReason } from '@telemed/contract';
import { defineMessages } from '#lib/i18n.ts';

/** The words of the waiting room (guest and host side), the room's end notices and its 403 pages. */
export const lobbyMessages = defineMessages(
  {
    askHostExplain: 'このカンファレンスに招待されていない場合でも、ホストが許可すれば参加できます。',
    askHostToLetIn: 'ホストに入室の許可を依頼する',
    roomNotOpenTitle: 'まだ入室できません',
    roomOpensBefore: 'カンファレンスの部屋は開始の15分前に開きます。',
    roomOpensAt: '入室できる時刻',
    scheduledFor: '予定',
    sessionOverTitle: 'このカンファレンスは終了しました',
    sessionCancelledTitle: 'このカンファレンスは中止されました',
    lobbyTitle: '入室の許可を待っています',
    lobbyConnecting: 'サーバーに接続しています…',
    lobbyWaiting: 'ホストに入室を依頼しました。許可されるまでこのページを開いたままお待ちください。',
    lobbyAdmitted: '入室が許可されました。会議室に移動します…',
    lobbyRejected: 'ホストは入室を許可しませんでした。',
    lobbyWithdrawn: '入室の依頼を取り消しました。',
    lobbyUnavailable: 'このカンファレンスには現在入室を依頼できません（開催中でないか、存在しません）。',
    lobbyFailed: 'サーバーに接続できません。ネットワークを確認してください。',
    withdraw: '依頼を取り消す',
    askAgain: 'もう一度依頼する',
    waitingRoomTitle: '待合室',
    waitingRoomEmpty: '入室を待っている人はいません。',
    waitingSince: '依頼時刻',
    admit: '入室を許可',
    reject: '拒否',
    decisionFailed: '操作できませんでした。待っている人が依頼を取り消した可能性があります。',
    observerBeforeJoin:
      'オブザーバーとして視聴します（カメラとマイクは使用しません）。準備ができたら「参加する」を押してください。',
    endedEnded: 'カンファレンスは終了しました。',
    endedCancelled: 'カンファレンスは中止されました。',
    endedRescheduled: 'カンファレンスの日時が変更されたため、部屋は閉じられました。',
    endedHostDeactivated: 'ホストのアカウントが無効になったため、カンファレンスは終了しました。',
    endedAccessRevoked: 'このカンファレンスへの参加権限がなくなりました。',
    endedRemoved: 'ホストによりこのカンファレンスから退出させられました。再び参加するにはホストの許可が必要です。',
  },
  {
    askHostExplain: 'Even if you are not invited to this conference, you can join when the host lets you in.',
    askHostToLetIn: 'Ask the host to let you in',
    roomNotOpenTitle: 'The room is not open yet',
    roomOpensBefore: 'The conference room opens 15 minutes before the start.',
    roomOpensAt: 'You can enter from',
    scheduledFor: 'Scheduled',
    sessionOverTitle: 'This conference is over',
    sessionCancelledTitle: 'This conference was cancelled',
    lobbyTitle: 'Waiting to be let in',
    lobbyConnecting: 'Connecting to the server…',
    lobbyWaiting: 'The host has been asked to let you in. Keep this page open until you are admitted.',
    lobbyAdmitted: 'You have been let in. Going to the conference room…',
    lobbyRejected: 'The host did not let you in.',
    lobbyWithdrawn: 'You withdrew your request.',
    lobbyUnavailable: 'You cannot ask to enter this conference now (it is not open, or does not exist).',
    lobbyFailed: 'Cannot reach the server. Check the network.',
    withdraw: 'Withdraw request',
    askAgain: 'Ask again',
    waitingRoomTitle: 'Waiting room',
    waitingRoomEmpty: 'Nobody is waiting to enter.',
    waitingSince: 'Asked at',
    admit: 'Admit',
    reject: 'Reject',
    decisionFailed: 'That did not work. The person may have withdrawn the request.',
    observerBeforeJoin:
      'You join as an observer: you watch and listen, without camera or microphone. Press “Join” when you are ready.',
    endedEnded: 'The conference has ended.',
    endedCancelled: 'The conference was cancelled.',
    endedRescheduled: 'The conference was moved to another time, so the room has closed.',
    endedHostDeactivated: 'The conference ended because the host’s account was deactivated.',
    endedAccessRevoked: 'You no longer have access to this conference.',
    endedRemoved: 'The host removed you from this conference. You can return only if the host lets you in again.',
  },
);

type LobbyMessages = ReturnType<typeof lobbyMessages>;

const endMessageKeys: Record<SessionEndReason, keyof LobbyMessages> = {
  ended: 'endedEnded',
  cancelled: 'endedCancelled',
  rescheduled: 'endedRescheduled',
  'host-deactivated': 'endedHostDeactivated',
  'access-revoked': 'endedAccessRevoked',
  removed: 'endedRemoved',
};

/** Why the call (or the wait) ended, in the user's language. */
export function sessionEndMessage(words: LobbyMessages, reason: SessionEndReason): string {
  return words[endMessageKeys[reason]];
}
