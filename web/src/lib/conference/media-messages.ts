import type { MediaSource } from '@telemed/contract';
import { defineMessages } from '#lib/i18n.ts';
import type { QualityLevel } from './connection-quality.ts';
import type { CallLayout } from './tile-layout.ts';

/** The words of the call's media: screen share, layouts and last-N, connection quality, the host's media stats. */
export const mediaMessages = defineMessages(
  {
    shareScreen: '画面を共有',
    stopScreenShare: '画面共有を停止',
    shareScreenAudio: '音声も共有',
    screenShareOf: '{name} の共有画面',
    sharingYourScreen: 'あなたの画面を共有しています',
    someoneSharing: '{name} が共有中',
    oneShareAtATime: '同時に画面を共有できるのは 1 人です（ホストが許可した場合を除く）。',
    allowMultipleShares: '複数人の同時画面共有を許可',
    screenShareRefused: '画面を共有できません。他の参加者が共有中です。',
    screenShareFailed: '画面を共有できませんでした。',
    layoutLabel: 'レイアウト',
    layoutSpeaker: 'スピーカー',
    layoutGrid: 'グリッド',
    videoLimitLabel: '受信する映像の数',
    videoLimitHint: '回線が細いときは少なくしてください。最近発言した人とピン留めした人の映像を優先します。',
    previousPage: '前のページ',
    nextPage: '次のページ',
    pageOf: '{page} / {count} ページ',
    pin: 'ピン留め',
    unpin: 'ピン留めを解除',
    pinned: 'ピン留め中',
    handRaised: '挙手中',
    videoNotReceived: '映像は一時停止中（受信数の上限）',
    pauseVideo: '映像を止める',
    resumeVideo: '映像を再開',
    videoPausedByYou: '映像を止めています',
    qualityGood: '接続良好',
    qualityFair: '接続やや不安定',
    qualityPoor: '接続不安定',
    qualityUnknown: '接続品質を測定中',
    qualityDetails: '接続の詳細',
    roundTripTime: '往復遅延',
    packetLoss: 'パケット損失',
    sendBitrate: '送信ビットレート',
    receiveBitrate: '受信ビットレート',
    simulcastLayer: '受信中の画質レイヤー',
    sentLayer: '送信中の最大解像度',
    frameHeight: '解像度',
    serverScore: 'サーバー評価（受信 / 相手の送信）',
    notMeasured: '—',
    close: '閉じる',
    mediaStats: 'メディア統計',
    mediaStatsTitle: '参加者ごとのメディア統計（サーバー側）',
    mediaStatsMeasuredAt: '測定時刻',
    mediaStatsParticipant: '参加者',
    mediaStatsUplink: '上り',
    mediaStatsDownlink: '下り',
    mediaStatsRoundTrip: '往復遅延',
    mediaStatsLoss: '損失（上り / 下り）',
    mediaStatsSending: '送信中',
    mediaStatsReceiving: '受信中の映像',
    mediaStatsPaused: '一時停止中の受信',
    mediaStatsFailed: 'メディア統計を取得できませんでした。',
    mediaStatsTotals: '受信 {consumers} 本のうち {paused} 本を一時停止中',
    sourceMicrophone: 'マイク',
    sourceCamera: 'カメラ',
    sourceScreen: '画面',
    sourceScreenAudio: '画面の音声',
  },
  {
    shareScreen: 'Share screen',
    stopScreenShare: 'Stop sharing',
    shareScreenAudio: 'Share audio too',
    screenShareOf: 'Screen shared by {name}',
    sharingYourScreen: 'You are sharing your screen',
    someoneSharing: '{name} is sharing',
    oneShareAtATime: 'One person can share a screen at a time, unless the host allows more.',
    allowMultipleShares: 'Allow several people to share at once',
    screenShareRefused: 'You cannot share now: someone else is sharing.',
    screenShareFailed: 'Your screen could not be shared.',
    layoutLabel: 'Layout',
    layoutSpeaker: 'Speaker',
    layoutGrid: 'Grid',
    videoLimitLabel: 'Videos to receive',
    videoLimitHint: 'Lower it on a thin link. Pinned people and recent speakers come first.',
    previousPage: 'Previous page',
    nextPage: 'Next page',
    pageOf: 'Page {page} of {count}',
    pin: 'Pin',
    unpin: 'Unpin',
    pinned: 'Pinned',
    handRaised: 'Hand raised',
    videoNotReceived: 'Video paused (receive limit)',
    pauseVideo: 'Stop video',
    resumeVideo: 'Resume video',
    videoPausedByYou: 'You stopped this video',
    qualityGood: 'Good connection',
    qualityFair: 'Unsteady connection',
    qualityPoor: 'Poor connection',
    qualityUnknown: 'Measuring the connection',
    qualityDetails: 'Connection details',
    roundTripTime: 'Round trip',
    packetLoss: 'Packet loss',
    sendBitrate: 'Sending',
    receiveBitrate: 'Receiving',
    simulcastLayer: 'Quality layer received',
    sentLayer: 'Best resolution sent',
    frameHeight: 'Resolution',
    serverScore: 'Server score (received / their sending)',
    notMeasured: '—',
    close: 'Close',
    mediaStats: 'Media stats',
    mediaStatsTitle: 'Media per participant (at the server)',
    mediaStatsMeasuredAt: 'Measured at',
    mediaStatsParticipant: 'Participant',
    mediaStatsUplink: 'Up',
    mediaStatsDownlink: 'Down',
    mediaStatsRoundTrip: 'Round trip',
    mediaStatsLoss: 'Loss (up / down)',
    mediaStatsSending: 'Sending',
    mediaStatsReceiving: 'Videos received',
    mediaStatsPaused: 'Paused',
    mediaStatsFailed: 'The media stats could not be read.',
    mediaStatsTotals: '{paused} of {consumers} received streams paused',
    sourceMicrophone: 'Microphone',
    sourceCamera: 'Camera',
    sourceScreen: 'Screen',
    sourceScreenAudio: 'Screen audio',
  },
);

export type MediaMessages = ReturnType<typeof mediaMessages>;

/** Fills `{name}`-style placeholders. */
export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in values ? String(values[key]) : whole));
}

const levelKeys: Record<QualityLevel, keyof MediaMessages> = {
  good: 'qualityGood',
  fair: 'qualityFair',
  poor: 'qualityPoor',
  unknown: 'qualityUnknown',
};

export function qualityLevelLabel(words: MediaMessages, level: QualityLevel): string {
  return words[levelKeys[level]];
}

const layoutKeys: Record<CallLayout, keyof MediaMessages> = { speaker: 'layoutSpeaker', grid: 'layoutGrid' };

export function layoutLabel(words: MediaMessages, layout: CallLayout): string {
  return words[layoutKeys[layout]];
}

/** Bitrate as people read it: kbps below one megabit, else Mbps. */
export function formatBitrate(kbps: number | null, words: MediaMessages): string {
  if (kbps === null) return words.notMeasured;
  return kbps < 1000 ? `${Math.round(kbps)} kbps` : `${(kbps / 1000).toFixed(1)} Mbps`;
}

export function formatMilliseconds(ms: number | null, words: MediaMessages): string {
  return ms === null ? words.notMeasured : `${Math.round(ms)} ms`;
}

export function formatPercent(percent: number | null, words: MediaMessages): string {
  return percent === null ? words.notMeasured : `${percent.toFixed(1)} %`;
}

const sourceKeys: Record<MediaSource, keyof MediaMessages> = {
  microphone: 'sourceMicrophone',
  camera: 'sourceCamera',
  screen: 'sourceScreen',
  'screen-audio': 'sourceScreenAudio',
};

export function sourceLabel(words: MediaMessages, source: MediaSource): string {
  return words[sourceKeys[source]];
}
