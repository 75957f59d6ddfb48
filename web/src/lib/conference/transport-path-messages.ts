import type { ParticipantTransportPaths, TransportPath } from '@telemed/contract';
import { defineMessages, type Language } from '#lib/i18n.ts';

/** The words for how a call reaches the media server (a tile's quality details, the host's media stats). */
export const transportPathMessages = defineMessages(
  {
    transportPath: '接続経路',
    pathUdp: 'UDP（直接）',
    pathTcp: 'TCP（直接）',
    pathTurnUdp: 'TURN 中継（UDP）',
    pathTurnTcp: 'TURN 中継（TCP）',
    pathTurnTls: 'TURN 中継（TLS）',
    pathUnknown: '—',
    pathSendRecv: '送信 {send} / 受信 {recv}',
  },
  {
    transportPath: 'Connection path',
    pathUdp: 'UDP (direct)',
    pathTcp: 'TCP (direct)',
    pathTurnUdp: 'TURN relay (UDP)',
    pathTurnTcp: 'TURN relay (TCP)',
    pathTurnTls: 'TURN relay (TLS)',
    pathUnknown: '—',
    pathSendRecv: 'send {send} / receive {recv}',
  },
);

type Words = ReturnType<typeof transportPathMessages>;

const keys: Record<TransportPath, keyof Words> = {
  udp: 'pathUdp',
  tcp: 'pathTcp',
  'turn-udp': 'pathTurnUdp',
  'turn-tcp': 'pathTurnTcp',
  'turn-tls': 'pathTurnTls',
};

export function transportPathLabel(language: Language, path: TransportPath | null | undefined): string {
  const words = transportPathMessages(language);
  return path ? words[keys[path]] : words.pathUnknown;
}

/** One participant's paths: one label when both transports agree, else each. */
export function transportPathsLabel(language: Language, paths: ParticipantTransportPaths | undefined): string {
  const send = paths?.send ?? null;
  const recv = paths?.recv ?? null;
  if (send === recv || !send || !recv) return transportPathLabel(language, send ?? recv);
  return transportPathMessages(language)
    .pathSendRecv.replace('{send}', transportPathLabel(language, send))
    .replace('{recv}', transportPathLabel(language, recv));
}
