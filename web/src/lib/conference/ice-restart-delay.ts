/**
 * The pause before the n-th ICE restart of a transport that stays disconnected: 2, 4, 8, then
 * every 10 s. The first waits a little, because a short gap often heals by itself (ICE consent
 * checks resume); later ones stay frequent enough to catch a link that came back.
 */
export function iceRestartDelayMs(attempt: number): number {
  return Math.min(2_000 * 2 ** attempt, 10_000);
}
