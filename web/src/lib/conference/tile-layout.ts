/**
 * Where each video of a call goes, and which of them this browser receives: the rules of the
 * room's two layouts (speaker view and a paginated grid), of last-N (at most N camera videos,
 * pinned ones first, then the latest speakers) and of the simulcast layer a tile needs. Pure
 * functions, so the rules are tested without a browser.
 */

export type CallLayout = 'speaker' | 'grid';
export const callLayouts: readonly CallLayout[] = ['speaker', 'grid'];

/** One tile: a participant's camera, or a screen they share. */
export interface TileSlot {
  /** Stable across renders: `camera:<participantId>` or `screen:<participantId>`. */
  key: string;
  participantId: string;
  source: 'camera' | 'screen';
  local: boolean;
}

export interface TileArrangement {
  /** Shown large: the screen shares, or in speaker view the person in focus. */
  stage: TileSlot[];
  /** The filmstrip (speaker view) or the current grid page. */
  strip: TileSlot[];
  page: number;
  pageCount: number;
}

export interface CallMembers {
  selfId: string | null;
  /** Remote participants in the order they joined. */
  remoteIds: readonly string[];
  /** Participants sharing a screen (remote ones; this browser's own share is not shown large). */
  screenSharerIds: readonly string[];
  activeSpeakerId: string | null;
  /** Remote participants by how recently they spoke, latest first. */
  speakingOrder: readonly string[];
  /** Pinned participants, in the order they were pinned. */
  pinnedIds: readonly string[];
}

const cameraSlot = (participantId: string, local: boolean): TileSlot => ({
  key: `camera:${participantId}`,
  participantId,
  source: 'camera',
  local,
});
const screenSlot = (participantId: string): TileSlot => ({
  key: `screen:${participantId}`,
  participantId,
  source: 'screen',
  local: false,
});

/** The person speaker view puts large: pinned first, then who speaks (or spoke last), else the first to join. */
export function speakerInFocus(members: CallMembers): string | null {
  const remote = new Set(members.remoteIds);
  const candidates = [...members.pinnedIds, members.activeSpeakerId, ...members.speakingOrder, ...members.remoteIds];
  return candidates.find((id): id is string => id !== null && remote.has(id)) ?? null;
}

/**
 * The tiles of a layout. Screen shares are always large. Speaker view: the person in focus large
 * (unless a screen is), everyone else in the filmstrip, this browser's own camera first. Grid:
 * every camera on pages of `pageSize`, pinned ones first, then in the order people joined.
 */
export function arrangeTiles(
  members: CallMembers,
  options: { layout: CallLayout; page: number; pageSize: number },
): TileArrangement {
  const shares = members.screenSharerIds.filter((id) => members.remoteIds.includes(id)).map(screenSlot);
  const self = members.selfId ? [cameraSlot(members.selfId, true)] : [];
  if (options.layout === 'speaker') {
    const focus = shares.length === 0 ? speakerInFocus(members) : null;
    const stage = focus ? [cameraSlot(focus, false)] : shares;
    const strip = [...self, ...members.remoteIds.filter((id) => id !== focus).map((id) => cameraSlot(id, false))];
    // Alone in the call: one's own camera is the picture.
    if (stage.length === 0 && strip.length === 1) return { stage: strip, strip: [], page: 0, pageCount: 1 };
    return { stage, strip, page: 0, pageCount: 1 };
  }
  const pinned = members.pinnedIds.filter((id) => members.remoteIds.includes(id));
  const cameras = [
    ...self,
    ...pinned.map((id) => cameraSlot(id, false)),
    ...members.remoteIds.filter((id) => !pinned.includes(id)).map((id) => cameraSlot(id, false)),
  ];
  const pageSize = Math.max(1, Math.floor(options.pageSize));
  const pageCount = Math.max(1, Math.ceil(cameras.length / pageSize));
  const page = Math.min(Math.max(0, Math.floor(options.page)), pageCount - 1);
  return { stage: shares, strip: cameras.slice(page * pageSize, (page + 1) * pageSize), page, pageCount };
}

/**
 * Which remote cameras to receive (last-N): of those on screen, at most `limit`, pinned ones
 * first, then by how recently they spoke, then in the order shown. Screen shares are not
 * counted: they are always received while shown.
 */
export function camerasToReceive(
  onScreen: readonly string[],
  members: Pick<CallMembers, 'pinnedIds' | 'speakingOrder'>,
  limit: number,
): Set<string> {
  const shown = new Set(onScreen);
  const ranked = [
    ...members.pinnedIds.filter((id) => shown.has(id)),
    ...members.speakingOrder.filter((id) => shown.has(id)),
    ...onScreen,
  ];
  return new Set([...new Set(ranked)].slice(0, Math.max(0, Math.floor(limit))));
}

/** Updates the speaking order (latest first) with the participant who speaks now. */
export function spokeNow(order: readonly string[], participantId: string | null): string[] {
  if (!participantId || order[0] === participantId) return [...order];
  return [participantId, ...order.filter((id) => id !== participantId)];
}

/**
 * Frame heights of the camera's simulcast layers: the room sends 720p video scaled down by 4, 2
 * and 1 (see CAMERA_SIMULCAST in conference-room.svelte.ts).
 */
export const CAMERA_LAYER_HEIGHTS = [180, 360, 720] as const;

/**
 * The spatial layer a tile `renderedHeight` CSS pixels high needs on a screen of
 * `devicePixelRatio`: the smallest whose frames are at least that high (a little upscaling is
 * invisible), the top layer for anything larger.
 */
export function spatialLayerForHeight(renderedHeight: number, devicePixelRatio = 1): number {
  const needed = renderedHeight * Math.max(1, devicePixelRatio) * 0.9;
  const layer = CAMERA_LAYER_HEIGHTS.findIndex((height) => height >= needed);
  return layer === -1 ? CAMERA_LAYER_HEIGHTS.length - 1 : layer;
}

/**
 * The grid's columns and how many 16:9 tiles a page holds, in an area `width` wide and `height`
 * high (CSS pixels) where no tile may be narrower than `minTileWidth`: at least one tile, at
 * most `maxTiles`.
 */
export function gridShape(
  area: { width: number; height: number },
  options: { minTileWidth: number; gap: number; maxTiles: number },
): { columns: number; pageSize: number } {
  const { minTileWidth, gap, maxTiles } = options;
  const columns = Math.max(1, Math.min(maxTiles, Math.floor((area.width + gap) / (minTileWidth + gap))));
  const tileHeight = ((area.width - gap * (columns - 1)) / columns) * (9 / 16);
  const rows = Math.max(1, Math.floor((area.height + gap) / (tileHeight + gap)));
  return { columns, pageSize: Math.max(1, Math.min(maxTiles, columns * rows)) };
}

/** The choices of N offered in the room, and the one it starts with. */
export const VIDEO_LIMITS = [1, 2, 4, 6, 9, 16] as const;
export const DEFAULT_VIDEO_LIMIT = 4;
