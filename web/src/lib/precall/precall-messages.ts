import type { ConnectivityPath } from '@telemed/contract';
import { defineMessages } from '#lib/i18n.ts';
import type { ProbeResult } from './connectivity-probe.ts';
import type { DeviceStatus } from './device-status.ts';
import type { FirewallPurpose } from './firewall-ports.ts';

/** The words of the pre-call check (「接続・機器の確認」) and of its port list for IT departments. */
export const precallMessages = defineMessages(
  {
    title: '接続・機器の確認',
    intro: '会議の前に、カメラ・マイク・スピーカーと、この病院のネットワークから会議サーバーへの接続を確認します。',
    checkLink: '接続・機器の確認',
    conference: '対象のカンファレンス',
    enterRoom: 'この設定で会議室へ進む',
    devicesTitle: 'カメラ・マイク・スピーカー',
    camera: 'カメラ',
    microphone: 'マイク',
    speaker: 'スピーカー',
    cameraPreview: 'カメラの映像',
    microphoneLevel: 'マイクの音量',
    microphoneLevelHint: '話すとバーが動きます。',
    meterNeedsClick: 'ページのどこかをクリックすると、マイクの音量が表示されます。',
    starting: '準備しています…',
    cameraDenied:
      'カメラの使用が許可されていません。アドレスバーのカメラのアイコンから許可し、ページを再読み込みしてください。',
    cameraMissing: 'カメラが見つかりません。カメラがなくても音声で参加できます。',
    cameraBusy: 'カメラを開けません。他のアプリ（テレビ会議ソフトなど）が使用していないか確認してください。',
    cameraFailed: 'カメラを使用できません。',
    microphoneDenied:
      'マイクの使用が許可されていません。アドレスバーのマイクのアイコンから許可し、ページを再読み込みしてください。',
    microphoneMissing: 'マイクが見つかりません。マイクがないと、他の施設にあなたの声が届きません。',
    microphoneBusy: 'マイクを開けません。他のアプリが使用していないか確認してください。',
    microphoneFailed: 'マイクを使用できません。',
    speakerTest: 'テスト音を鳴らす',
    speakerPlaying: 'テスト音を再生しています…',
    speakerDone: '音は聞こえましたか？聞こえない場合は、スピーカーの選択と音量を確認してください。',
    speakerFailed: 'テスト音を再生できませんでした。スピーカーの接続を確認してください。',
    speakerDefaultOnly: 'このブラウザでは出力先を選べません。既定のスピーカーを使用します。',
    choicesRemembered: '選んだ機器はこのブラウザに記憶され、会議で使用されます。',
    connectivityTitle: 'ネットワーク接続',
    connectivityIntro: '通話と同じポートを使って、UDP・TCP・TURN（TLS）のそれぞれで会議サーバーに届くかを確認します。',
    pathUdp: 'UDP（推奨）',
    pathTcp: 'TCP',
    pathTurnTls: 'TURN/TLS（中継）',
    resultTesting: '確認中…',
    resultOk: '接続できます',
    resultFailed: '接続できません',
    resultUnavailable: 'このサーバーには設定されていません',
    resultError: '確認できませんでした',
    roundTrip: '往復',
    summaryUdp: 'UDPで接続できます。会議に問題なく参加できます。',
    summaryTcpOnly:
      'UDPが通らないため、通話はTCPで行います。映像や音声が遅れることがあります。下の一覧をIT部門に渡し、UDPの許可を依頼してください。',
    summaryBlocked:
      '会議サーバーに接続できません。このままでは映像と音声が届きません。下の一覧をIT部門に渡し、通信の許可を依頼してください。',
    summaryNoServer:
      '会議サーバー（シグナリング）に接続できないため、確認できませんでした。ネットワークを確認してください。',
    rerun: 'もう一度確認する',
    portsTitle: 'IT部門向け：通信許可の一覧',
    portsIntro:
      'この病院の端末から、次の宛先への通信（発信）とその応答を許可してください。すべて病院側から接続します。',
    columnPurpose: '用途',
    columnDestination: '宛先',
    columnProtocol: 'プロトコル',
    columnPorts: 'ポート',
    columnResult: 'この端末での確認結果',
    purposeWeb: 'Web画面',
    purposeSignaling: 'シグナリング（WebSocket）',
    purposeMediaUdp: '映像・音声（WebRTC）',
    purposeMediaTcp: '映像・音声（WebRTC、UDPが使えない場合）',
    purposeTurnTls: 'TURN中継（TLS）',
    notKnown: '未確認',
    notConfigured: '未設定',
    print: '一覧を印刷',
    printedAt: '作成日時',
    checkedFrom: '確認した端末のブラウザ',
  },
  {
    title: 'Connection and device check',
    intro:
      'Before the conference, check your camera, microphone and speaker, and whether this hospital’s network reaches the conference server.',
    checkLink: 'Check connection and devices',
    conference: 'Conference',
    enterRoom: 'Go to the conference room with these settings',
    devicesTitle: 'Camera, microphone and speaker',
    camera: 'Camera',
    microphone: 'Microphone',
    speaker: 'Speaker',
    cameraPreview: 'Camera preview',
    microphoneLevel: 'Microphone level',
    microphoneLevelHint: 'The bar moves when you speak.',
    meterNeedsClick: 'Click anywhere on the page to show the microphone level.',
    starting: 'Starting…',
    cameraDenied: 'The camera is not allowed. Allow it with the camera icon in the address bar, then reload the page.',
    cameraMissing: 'No camera found. You can still take part with voice only.',
    cameraBusy:
      'The camera cannot be opened. Check that no other program (such as video-conference software) is using it.',
    cameraFailed: 'The camera cannot be used.',
    microphoneDenied:
      'The microphone is not allowed. Allow it with the microphone icon in the address bar, then reload the page.',
    microphoneMissing: 'No microphone found. Without one, the other sites cannot hear you.',
    microphoneBusy: 'The microphone cannot be opened. Check that no other program is using it.',
    microphoneFailed: 'The microphone cannot be used.',
    speakerTest: 'Play a test sound',
    speakerPlaying: 'Playing the test sound…',
    speakerDone: 'Did you hear it? If not, check the speaker choice and the volume.',
    speakerFailed: 'The test sound could not be played. Check that the speaker is connected.',
    speakerDefaultOnly: 'This browser cannot choose the output; the default speaker is used.',
    choicesRemembered: 'Your choices are remembered in this browser and used in the conference.',
    connectivityTitle: 'Network connection',
    connectivityIntro:
      'Using the same ports as a call, this checks whether UDP, TCP and TURN (TLS) each reach the conference server.',
    pathUdp: 'UDP (preferred)',
    pathTcp: 'TCP',
    pathTurnTls: 'TURN/TLS (relay)',
    resultTesting: 'Testing…',
    resultOk: 'Reachable',
    resultFailed: 'Not reachable',
    resultUnavailable: 'Not configured on this server',
    resultError: 'Could not be tested',
    roundTrip: 'round trip',
    summaryUdp: 'UDP gets through: the conference will work well.',
    summaryTcpOnly:
      'UDP is blocked, so calls will use TCP; video and voice may lag. Give the list below to the IT department and ask them to allow UDP.',
    summaryBlocked:
      'The conference server cannot be reached: video and voice would not get through. Give the list below to the IT department and ask them to allow these connections.',
    summaryNoServer:
      'The conference server (signaling) cannot be reached, so nothing could be tested. Check the network.',
    rerun: 'Test again',
    portsTitle: 'For the IT department: connections to allow',
    portsIntro:
      'Allow these outgoing connections from this hospital’s PCs, with their replies. All of them are opened from the hospital’s side.',
    columnPurpose: 'Purpose',
    columnDestination: 'Destination',
    columnProtocol: 'Protocol',
    columnPorts: 'Ports',
    columnResult: 'Result on this PC',
    purposeWeb: 'Web pages',
    purposeSignaling: 'Signaling (WebSocket)',
    purposeMediaUdp: 'Video and voice (WebRTC)',
    purposeMediaTcp: 'Video and voice (WebRTC, when UDP is blocked)',
    purposeTurnTls: 'TURN relay (TLS)',
    notKnown: 'Not known',
    notConfigured: 'Not configured',
    print: 'Print the list',
    printedAt: 'Generated',
    checkedFrom: 'Browser of the PC checked',
  },
);

export type PrecallMessages = ReturnType<typeof precallMessages>;

type Key = keyof PrecallMessages;

const pathKeys: Record<ConnectivityPath, Key> = { udp: 'pathUdp', tcp: 'pathTcp', 'turn-tls': 'pathTurnTls' };
const resultKeys: Record<ProbeResult | 'testing', Key> = {
  testing: 'resultTesting',
  ok: 'resultOk',
  failed: 'resultFailed',
  unavailable: 'resultUnavailable',
  error: 'resultError',
};
const purposeKeys: Record<FirewallPurpose, Key> = {
  web: 'purposeWeb',
  signaling: 'purposeSignaling',
  'media-udp': 'purposeMediaUdp',
  'media-tcp': 'purposeMediaTcp',
  'turn-tls': 'purposeTurnTls',
};
type DeviceProblem = Exclude<DeviceStatus, 'ready'>;
const deviceKeys: Record<'camera' | 'microphone', Record<DeviceProblem, Key>> = {
  camera: {
    starting: 'starting',
    denied: 'cameraDenied',
    missing: 'cameraMissing',
    busy: 'cameraBusy',
    failed: 'cameraFailed',
  },
  microphone: {
    starting: 'starting',
    denied: 'microphoneDenied',
    missing: 'microphoneMissing',
    busy: 'microphoneBusy',
    failed: 'microphoneFailed',
  },
};

export function pathLabel(words: PrecallMessages, path: ConnectivityPath): string {
  return words[pathKeys[path]];
}

export function probeResultText(words: PrecallMessages, result: ProbeResult | 'testing'): string {
  return words[resultKeys[result]];
}

export function firewallPurposeText(words: PrecallMessages, purpose: FirewallPurpose): string {
  return words[purposeKeys[purpose]];
}

/** What to tell the user about a camera or microphone that is not ready; nothing when it is. */
export function deviceStatusText(
  words: PrecallMessages,
  device: 'camera' | 'microphone',
  status: DeviceStatus,
): string | null {
  return status === 'ready' ? null : words[deviceKeys[device][status]];
}
