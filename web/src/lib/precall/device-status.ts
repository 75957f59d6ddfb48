/**
 * What the pre-call check says about a camera or microphone, from getUserMedia's outcome, and
 * the level meter's scale.
 */

export type DeviceStatus = 'starting' | 'ready' | 'denied' | 'missing' | 'busy' | 'failed';

/** getUserMedia's error, as something the user can act on. */
export function deviceStatusOf(error: unknown): Exclude<DeviceStatus, 'starting' | 'ready'> {
  switch ((error as { name?: unknown } | null)?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'missing';
    // Windows reports a camera held by another program (the old video-conference software) so.
    case 'NotReadableError':
    case 'AbortError':
      return 'busy';
    default:
      return 'failed';
  }
}

/** Silence up to this level (dBFS) shows as an empty meter. */
const FLOOR_DB = -60;

/** The meter's fill (0–1) for a signal's RMS amplitude: decibels, so quiet speech still shows. */
export function meterLevel(rms: number): number {
  if (!(rms > 0)) return 0;
  const decibels = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, (decibels - FLOOR_DB) / -FLOOR_DB));
}
