import { DEFAULT_VIDEO_LIMIT, VIDEO_LIMITS, callLayouts, type CallLayout } from './tile-layout.ts';

/**
 * What a user chose for their calls on this computer: the layout and how many videos to
 * receive (a thin island link wants fewer). Kept in the browser's local storage, per computer
 * rather than per account, because the link is the computer's.
 */

export interface CallPreferences {
  layout: CallLayout;
  videoLimit: number;
}

const STORAGE_KEY = 'telemed.call-preferences';

export const defaultCallPreferences: CallPreferences = { layout: 'grid', videoLimit: DEFAULT_VIDEO_LIMIT };

/** The stored choices; anything missing or unreadable (another version, a hand edit) falls back to the defaults. */
export function readCallPreferences(storage: Pick<Storage, 'getItem'> | undefined): CallPreferences {
  let stored: unknown;
  try {
    stored = JSON.parse(storage?.getItem(STORAGE_KEY) ?? 'null');
  } catch {
    stored = null;
  }
  const values = typeof stored === 'object' && stored !== null ? (stored as Record<string, unknown>) : {};
  return {
    layout: callLayouts.find((layout) => layout === values.layout) ?? defaultCallPreferences.layout,
    videoLimit: VIDEO_LIMITS.find((limit) => limit === values.videoLimit) ?? defaultCallPreferences.videoLimit,
  };
}

export function storeCallPreferences(
  storage: Pick<Storage, 'setItem'> | undefined,
  preferences: CallPreferences,
): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(preferences));
  } catch {
    // Storage full or forbidden (private mode): the choice lasts for this page only.
  }
}
