/**
 * The pause before the n-th ICE restart of a transport that stays disconnected: 2, 4, then every
 * 5 s. The first waits a little, because a short gap often heals by itself (ICE consent checks
 * resume); later ones stay frequent because a restart's checks back off, and a link that came
 * back should carry sound again within seconds (each restart is one small request).
 */
export function iceRestartDelayMs(attempt: number): number {
  return Math.min(2_000 * 2 ** attempt, 5_000);
}
