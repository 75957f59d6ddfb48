import { defineMessages } from '#lib/i18n.ts';

/** The words of a thin link: the banner at the degraded site, the tiles at the others, the link profile form. */
export const linkMessages = defineMessages(
  {
    videoPaused: '通信状態が悪いため、音声を優先して映像を一時停止しています',
    videoReduced: '通信状態に合わせて、映像の画質を下げています',
    heldBackByLink: '通信状態のため映像を一時停止中',
    peerAudioOnly: '通信状態が悪いため音声のみ',
    linkProfile: '回線の種類',
    linkProfileHint: '会議の映像をこの回線に合わせて最初から制限します。通話中は実測に合わせてさらに調整します。',
    linkUnrestricted: '制限なし',
    linkFibre: '光回線',
    linkDsl: 'DSL',
    linkLte: 'LTE（モバイル）',
    linkSatellite: '衛星回線',
    linkCustom: '個別に指定',
    upKbps: '上り（kbit/s）',
    downKbps: '下り（kbit/s）',
    linkProfilesTitle: '拠点の回線設定',
    save: '保存',
    saved: '保存しました',
    saveFailed: '保存できませんでした。入力を確認してください。',
  },
  {
    videoPaused: 'Poor connection — video paused to keep audio',
    videoReduced: 'Limited connection — video quality reduced',
    heldBackByLink: 'Video paused for the connection',
    peerAudioOnly: 'Poor connection — audio only',
    linkProfile: 'Network link',
    linkProfileHint:
      'Caps the call’s video to this link from the start; during the call it adapts further to what is measured.',
    linkUnrestricted: 'Unrestricted',
    linkFibre: 'Fibre',
    linkDsl: 'DSL',
    linkLte: 'LTE (mobile)',
    linkSatellite: 'Satellite',
    linkCustom: 'Custom',
    upKbps: 'Up (kbit/s)',
    downKbps: 'Down (kbit/s)',
    linkProfilesTitle: 'Sites’ network links',
    save: 'Save',
    saved: 'Saved',
    saveFailed: 'Could not save. Check the values.',
  },
);

export type LinkMessages = ReturnType<typeof linkMessages>;
