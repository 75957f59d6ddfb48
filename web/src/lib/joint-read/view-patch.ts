import type { JointReadView, JointReadViewPatch } from '@telemed/contract';

/** Below these, two views count as the same (rounding of zoom and pan on different screens). */
const ZOOM_TOLERANCE = 1e-3;
// Half a pixel of a 1024-pixel image: re-centring on Cornerstone's CPU path is that coarse.
const PAN_TOLERANCE = 5e-4;
const VOI_TOLERANCE = 0.01;

/**
 * The part of `to` that differs from `from`, or null when nothing does. `ignoreImageIndex`
 * leaves the image out while cine plays (every site plays the clip itself).
 */
export function viewPatch(
  from: JointReadView,
  to: JointReadView,
  options: { ignoreImageIndex?: boolean } = {},
): JointReadViewPatch | null {
  const patch: JointReadViewPatch = {};
  if (from.studyInstanceUid !== to.studyInstanceUid) patch.studyInstanceUid = to.studyInstanceUid;
  if (from.seriesInstanceUid !== to.seriesInstanceUid) patch.seriesInstanceUid = to.seriesInstanceUid;
  if (!options.ignoreImageIndex && from.imageIndex !== to.imageIndex) patch.imageIndex = to.imageIndex;
  const voiDiffers =
    (from.voi === null) !== (to.voi === null) ||
    (from.voi !== null &&
      to.voi !== null &&
      (Math.abs(from.voi.windowCenter - to.voi.windowCenter) > VOI_TOLERANCE ||
        Math.abs(from.voi.windowWidth - to.voi.windowWidth) > VOI_TOLERANCE));
  if (voiDiffers) patch.voi = to.voi;
  if (Math.abs(from.zoom - to.zoom) > ZOOM_TOLERANCE) patch.zoom = to.zoom;
  if (from.pan.some((value, axis) => Math.abs(value - to.pan[axis]!) > PAN_TOLERANCE)) patch.pan = to.pan;
  if (from.rotation !== to.rotation) patch.rotation = to.rotation;
  if (from.flipHorizontal !== to.flipHorizontal) patch.flipHorizontal = to.flipHorizontal;
  if (from.flipVertical !== to.flipVertical) patch.flipVertical = to.flipVertical;
  if (from.invert !== to.invert) patch.invert = to.invert;
  if (from.cine.playing !== to.cine.playing || from.cine.framesPerSecond !== to.cine.framesPerSecond) {
    patch.cine = to.cine;
  }
  return Object.keys(patch).length > 0 ? patch : null;
}
