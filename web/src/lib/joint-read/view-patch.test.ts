import { jointReadViewPatchSchema, type JointReadView } from '@telemed/contract';
import { describe, expect, it } from 'vitest';
import { viewPatch } from './view-patch.ts';

const view: JointReadView = {
  studyInstanceUid: '1.2.3',
  seriesInstanceUid: '1.2.3.4',
  imageIndex: 10,
  voi: { windowCenter: 40, windowWidth: 400 },
  zoom: 1,
  pan: [0, 0],
  rotation: 0,
  flipHorizontal: false,
  flipVertical: false,
  invert: false,
  cine: { playing: false, framesPerSecond: 10 },
};

describe('viewPatch', () => {
  it('is null for the same view, and for differences below what a screen shows', () => {
    expect(viewPatch(view, { ...view })).toBeNull();
    expect(viewPatch(view, { ...view, zoom: 1.0004, pan: [0.00005, 0] })).toBeNull();
  });

  it('carries only what changed, as a valid contract patch', () => {
    const patch = viewPatch(view, { ...view, imageIndex: 42, voi: { windowCenter: -600, windowWidth: 1500 }, zoom: 2 });
    expect(patch).toEqual({ imageIndex: 42, voi: { windowCenter: -600, windowWidth: 1500 }, zoom: 2 });
    expect(jointReadViewPatchSchema.safeParse(patch).success).toBe(true);
    expect(viewPatch(view, { ...view, voi: null })).toEqual({ voi: null });
    expect(viewPatch(view, { ...view, rotation: 90, invert: true })).toEqual({ rotation: 90, invert: true });
  });

  it('leaves the image out while cine plays, but not the cine change itself', () => {
    const playing = { ...view, cine: { playing: true, framesPerSecond: 15 } };
    expect(viewPatch(playing, { ...playing, imageIndex: 11 }, { ignoreImageIndex: true })).toBeNull();
    expect(viewPatch(view, { ...playing, imageIndex: 11 }, { ignoreImageIndex: true })).toEqual({ cine: playing.cine });
  });
});
