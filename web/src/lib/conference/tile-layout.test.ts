import { describe, expect, it } from 'vitest';
import {
  arrangeTiles,
  camerasToReceive,
  gridShape,
  spatialLayerForHeight,
  speakerInFocus,
  spokeNow,
  type CallMembers,
} from './tile-layout.ts';

const members = (overrides: Partial<CallMembers> = {}): CallMembers => ({
  selfId: 'me',
  remoteIds: ['a', 'b', 'c', 'd'],
  screenSharerIds: [],
  activeSpeakerId: null,
  speakingOrder: [],
  pinnedIds: [],
  ...overrides,
});
const keys = (slots: { key: string }[]) => slots.map((slot) => slot.key);

describe('speaker view', () => {
  it('puts the pinned person large, else who speaks, else who spoke last, else the first to join', () => {
    expect(speakerInFocus(members())).toBe('a');
    expect(speakerInFocus(members({ speakingOrder: ['c', 'b'] }))).toBe('c');
    expect(speakerInFocus(members({ activeSpeakerId: 'b', speakingOrder: ['c', 'b'] }))).toBe('b');
    expect(speakerInFocus(members({ activeSpeakerId: 'b', pinnedIds: ['d'] }))).toBe('d');
    // Speaking oneself does not put oneself large; someone who left is not in focus.
    expect(speakerInFocus(members({ activeSpeakerId: 'me', pinnedIds: ['gone'] }))).toBe('a');
    expect(speakerInFocus(members({ remoteIds: [] }))).toBeNull();
  });

  it('keeps everyone else in the filmstrip, own camera first, and a shared screen large', () => {
    const view = arrangeTiles(members({ activeSpeakerId: 'c' }), { layout: 'speaker', page: 3, pageSize: 2 });
    expect(keys(view.stage)).toEqual(['camera:c']);
    expect(keys(view.strip)).toEqual(['camera:me', 'camera:a', 'camera:b', 'camera:d']);
    expect(view.pageCount).toBe(1);

    const sharing = arrangeTiles(members({ activeSpeakerId: 'c', screenSharerIds: ['b'] }), {
      layout: 'speaker',
      page: 0,
      pageSize: 9,
    });
    expect(keys(sharing.stage)).toEqual(['screen:b']);
    // The sharer's camera stays.
    expect(keys(sharing.strip)).toEqual(['camera:me', 'camera:a', 'camera:b', 'camera:c', 'camera:d']);
  });

  it('shows one’s own camera large when alone', () => {
    const alone = arrangeTiles(members({ remoteIds: [] }), { layout: 'speaker', page: 0, pageSize: 9 });
    expect(keys(alone.stage)).toEqual(['camera:me']);
    expect(alone.strip).toEqual([]);
  });
});

describe('grid view', () => {
  it('pages the cameras, pinned first, with screen shares large above', () => {
    const first = arrangeTiles(members({ pinnedIds: ['c'], screenSharerIds: ['a'] }), {
      layout: 'grid',
      page: 0,
      pageSize: 2,
    });
    expect(keys(first.stage)).toEqual(['screen:a']);
    expect(keys(first.strip)).toEqual(['camera:me', 'camera:c']);
    expect(first.pageCount).toBe(3);
    const last = arrangeTiles(members({ pinnedIds: ['c'] }), { layout: 'grid', page: 2, pageSize: 2 });
    expect(keys(last.strip)).toEqual(['camera:d']);
    // A page that no longer exists (someone left) shows the last one.
    const beyond = arrangeTiles(members({ remoteIds: ['a'] }), { layout: 'grid', page: 5, pageSize: 2 });
    expect(beyond).toMatchObject({ page: 0, pageCount: 1 });
  });

  it('fits as many tiles as the area holds, never fewer than one', () => {
    const options = { minTileWidth: 240, gap: 8, maxTiles: 9 };
    expect(gridShape({ width: 1000, height: 600 }, options)).toEqual({ columns: 4, pageSize: 9 });
    expect(gridShape({ width: 500, height: 300 }, options)).toEqual({ columns: 2, pageSize: 4 });
    expect(gridShape({ width: 256, height: 600 }, options)).toEqual({ columns: 1, pageSize: 4 });
    expect(gridShape({ width: 100, height: 20 }, options)).toEqual({ columns: 1, pageSize: 1 });
  });
});

describe('last-N', () => {
  it('receives at most N of the cameras on screen: pinned, then latest speakers, then in order', () => {
    const order = { pinnedIds: ['d'], speakingOrder: ['c', 'x', 'a'] };
    expect([...camerasToReceive(['a', 'b', 'c', 'd'], order, 2)]).toEqual(['d', 'c']);
    expect([...camerasToReceive(['a', 'b', 'c', 'd'], order, 3)]).toEqual(['d', 'c', 'a']);
    expect([...camerasToReceive(['b', 'a'], order, 4)]).toEqual(['a', 'b']);
    // Off-screen cameras are never received, whoever speaks.
    expect([...camerasToReceive(['b'], order, 2)]).toEqual(['b']);
    expect(camerasToReceive(['a'], order, 0).size).toBe(0);
  });

  it('keeps the speaking order, latest first', () => {
    expect(spokeNow(['a', 'b'], 'b')).toEqual(['b', 'a']);
    expect(spokeNow(['a', 'b'], 'c')).toEqual(['c', 'a', 'b']);
    expect(spokeNow(['a', 'b'], null)).toEqual(['a', 'b']);
  });
});

describe('simulcast layer by tile size', () => {
  it('takes the lowest layer for thumbnails and the top one only for large tiles', () => {
    expect(spatialLayerForHeight(90)).toBe(0);
    expect(spatialLayerForHeight(180)).toBe(0);
    expect(spatialLayerForHeight(300)).toBe(1);
    expect(spatialLayerForHeight(600)).toBe(2);
    expect(spatialLayerForHeight(2000)).toBe(2);
    // A high-density screen needs more pixels for the same tile.
    expect(spatialLayerForHeight(180, 2)).toBe(1);
  });
});
