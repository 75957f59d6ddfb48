import * as core from '@cornerstonejs/core';
import * as tools from '@cornerstonejs/tools';
import { init as initImageLoader, wadors } from '@cornerstonejs/dicom-image-loader';
import {
  annotationTools,
  type JointReadAnnotation,
  type JointReadMeasurement,
  type JointReadPointer,
  type JointReadView,
  type JointReadViewPatch,
  type JointReadVoi,
} from '@telemed/contract';
import type { SeriesImage } from './session-imaging.ts';

/**
 * Cornerstone3D behind the joint read: one stack viewport (GPU rendering, or the CPU where the
 * browser has no WebGL: core falls back by itself), the reading tools, and the translation both
 * ways between the viewport and the screen-independent `JointReadView`, annotations in world
 * coordinates and the pointer in image pixels. Browser-only: the viewer component imports this
 * module dynamically, so Cornerstone never reaches SSR and loads while the call connects.
 */

export type ReadingTool =
  | 'WindowLevel'
  | 'Pan'
  | 'Zoom'
  | 'PlanarRotate'
  | 'Length'
  | 'Angle'
  | 'EllipticalROI'
  | 'RectangleROI'
  | 'ArrowAnnotate'
  | 'Pointer';

/** CT window presets (centre/width in HU). */
export const ctPresets = {
  lung: { windowCenter: -600, windowWidth: 1500 },
  mediastinum: { windowCenter: 40, windowWidth: 400 },
  bone: { windowCenter: 400, windowWidth: 1800 },
  brain: { windowCenter: 40, windowWidth: 80 },
} as const satisfies Record<string, JointReadVoi>;
export type CtPreset = keyof typeof ctPresets;

let authorize: () => Promise<Record<string, string>> = async () => ({});
let initialised: Promise<void> | null = null;

/** Loads and initialises Cornerstone once per page; `authorization` signs every image request. */
export function initCornerstone(authorization: () => Promise<Record<string, string>>): Promise<void> {
  authorize = authorization;
  initialised ??= (async () => {
    core.init();
    initImageLoader({
      maxWebWorkers: Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1)),
      beforeSend: async () => authorize(),
    });
    tools.init();
    for (const tool of [tools.StackScrollTool, ...Object.values(toolClasses)]) tools.addTool(tool);
  })();
  return initialised;
}

const { MouseBindings } = tools.Enums;
/** The tools that make measurements, one per annotation kind of the joint read (the presenter's only). */
const measurementToolClasses = {
  Length: tools.LengthTool,
  Angle: tools.AngleTool,
  EllipticalROI: tools.EllipticalROITool,
  RectangleROI: tools.RectangleROITool,
  ArrowAnnotate: tools.ArrowAnnotateTool,
} satisfies Record<JointReadAnnotation['tool'], unknown>;
const toolClasses = {
  WindowLevel: tools.WindowLevelTool,
  Pan: tools.PanTool,
  Zoom: tools.ZoomTool,
  PlanarRotate: tools.PlanarRotateTool,
  ...measurementToolClasses,
} satisfies Record<Exclude<ReadingTool, 'Pointer'>, unknown>;
const toolNames = Object.fromEntries(
  Object.entries(toolClasses).map(([tool, toolClass]) => [tool, toolClass.toolName]),
) as Record<Exclude<ReadingTool, 'Pointer'>, string>;
/** Cornerstone's tool name → the joint read's annotation kind. */
const measurementByToolName = new Map<string, JointReadAnnotation['tool']>(
  annotationTools.map((tool) => [measurementToolClasses[tool].toolName, tool]),
);

type Point3 = [number, number, number];
type StackViewport = core.Types.IStackViewport;
type ToolAnnotation = tools.Types.Annotation;

/** What the viewport tells its owner. */
export interface ViewportEvents {
  /** The view changed (by a tool, a key, a button, or when opened); `local` when by this user. */
  viewChanged(view: JointReadView, local: boolean): void;
  annotationChanged(annotation: JointReadAnnotation): void;
  annotationRemoved(annotationUid: string): void;
  pointerMoved(pointer: JointReadPointer | null): void;
  /** How many of the series' images are loaded (decoded and cached). */
  loadProgress(loaded: number, total: number): void;
}

let viewportCount = 0;
/** User input marks view changes as local for this long after it (scroll, drag, key). */
const LOCAL_INPUT_WINDOW_MS = 400;
const PRELOAD_CONCURRENCY = 6;

export class JointReadViewport {
  private readonly element: HTMLDivElement;
  private readonly events: ViewportEvents;
  private readonly engine: core.RenderingEngine;
  private readonly viewportId: string;
  private readonly toolGroup: tools.Types.IToolGroup;
  private imageIds: string[] = [];
  private images: SeriesImage[] = [];
  private studyInstanceUid = '';
  private seriesInstanceUid = '';
  private lastInputAt = -Infinity;
  private activeTool: ReadingTool = 'WindowLevel';
  private cine = { playing: false, framesPerSecond: 10 };
  /** Annotations put here from the joint read (not drawn on this screen), by UID. */
  private readonly syncedAnnotations = new Set<string>();
  private applyingRemote = false;
  /** The view as last reported or applied: what a resize keeps. */
  private lastView: JointReadView | undefined;
  private loadGeneration = 0;
  private readonly detach: (() => void)[] = [];
  private viewEventQueued = false;

  constructor(element: HTMLDivElement, events: ViewportEvents) {
    this.element = element;
    this.events = events;
    viewportCount += 1;
    this.viewportId = `joint-read-${viewportCount}`;
    this.engine = new core.RenderingEngine(`joint-read-engine-${viewportCount}`);
    this.engine.enableElement({
      viewportId: this.viewportId,
      type: core.Enums.ViewportType.STACK,
      element,
      defaultOptions: { background: [0, 0, 0] },
    });
    const toolGroup = tools.ToolGroupManager.createToolGroup(`joint-read-tools-${viewportCount}`);
    if (!toolGroup) throw new Error('could not create the tool group');
    this.toolGroup = toolGroup;
    for (const name of [tools.StackScrollTool.toolName, ...Object.values(toolNames)]) toolGroup.addTool(name);
    toolGroup.addViewport(this.viewportId, this.engine.id);
    toolGroup.setToolActive(tools.StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
    toolGroup.setToolActive(toolNames.Pan, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
    toolGroup.setToolActive(toolNames.Zoom, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
    // Measurement tools are passive from the start: a follower draws none, but sees and measures
    // the presenter's (a disabled tool renders nothing).
    for (const tool of annotationTools) toolGroup.setToolPassive(toolNames[tool]);
    this.selectTool('WindowLevel');

    const markInput = () => (this.lastInputAt = performance.now());
    for (const type of ['pointerdown', 'pointermove', 'wheel', 'keydown'] as const) {
      const listener = (event: Event) => {
        if (type === 'pointermove' && (event as PointerEvent).buttons === 0) return;
        markInput();
      };
      element.addEventListener(type, listener, { passive: true });
      this.detach.push(() => element.removeEventListener(type, listener));
    }
    const onPointer = (event: PointerEvent) => this.pointerAt(event);
    const onPointerLeave = () => this.activeTool === 'Pointer' && this.events.pointerMoved(null);
    element.addEventListener('pointermove', onPointer);
    element.addEventListener('pointerleave', onPointerLeave);
    this.detach.push(() => element.removeEventListener('pointermove', onPointer));
    this.detach.push(() => element.removeEventListener('pointerleave', onPointerLeave));

    const { Events } = core.Enums;
    for (const type of [Events.STACK_NEW_IMAGE, Events.VOI_MODIFIED, Events.CAMERA_MODIFIED, Events.IMAGE_RENDERED]) {
      const listener = () => this.queueViewEvent();
      element.addEventListener(type, listener);
      this.detach.push(() => element.removeEventListener(type, listener));
    }
    const toolEvents = tools.Enums.Events;
    const onAnnotation = (event: Event) => this.annotationEvent(event as CustomEvent<{ annotation: ToolAnnotation }>);
    const onRemoved = (event: Event) => {
      const { annotation } = (event as CustomEvent<{ annotation: ToolAnnotation }>).detail;
      const uid = annotation.annotationUID;
      if (!uid || this.applyingRemote) return;
      this.syncedAnnotations.delete(uid);
      this.events.annotationRemoved(uid);
    };
    core.eventTarget.addEventListener(toolEvents.ANNOTATION_COMPLETED, onAnnotation);
    core.eventTarget.addEventListener(toolEvents.ANNOTATION_MODIFIED, onAnnotation);
    core.eventTarget.addEventListener(toolEvents.ANNOTATION_REMOVED, onRemoved);
    this.detach.push(() => {
      core.eventTarget.removeEventListener(toolEvents.ANNOTATION_COMPLETED, onAnnotation);
      core.eventTarget.removeEventListener(toolEvents.ANNOTATION_MODIFIED, onAnnotation);
      core.eventTarget.removeEventListener(toolEvents.ANNOTATION_REMOVED, onRemoved);
    });
  }

  private get viewport(): StackViewport {
    return this.engine.getViewport(this.viewportId) as StackViewport;
  }

  get series(): { studyInstanceUid: string; seriesInstanceUid: string; imageCount: number } {
    return {
      studyInstanceUid: this.studyInstanceUid,
      seriesInstanceUid: this.seriesInstanceUid,
      imageCount: this.imageIds.length,
    };
  }

  /** Shows a series (its images as the caller sorted them) and starts loading all of them. */
  async open(
    studyInstanceUid: string,
    seriesInstanceUid: string,
    images: SeriesImage[],
    frameUrl: (image: SeriesImage) => string,
    imageIndex = 0,
  ): Promise<void> {
    this.stopCine();
    this.clearAnnotations();
    this.studyInstanceUid = studyInstanceUid;
    this.seriesInstanceUid = seriesInstanceUid;
    this.images = images;
    this.imageIds = images.map((image) => {
      const imageId = `wadors:${frameUrl(image)}`;
      // The loader reads the geometry and pixel description from this, not from the frame bytes.
      wadors.metaDataManager.add(imageId, image.metadata as Parameters<typeof wadors.metaDataManager.add>[1]);
      return imageId;
    });
    await this.viewport.setStack(this.imageIds, Math.min(imageIndex, Math.max(0, this.imageIds.length - 1)));
    this.viewport.render();
    void this.preload();
  }

  private async preload(): Promise<void> {
    const generation = ++this.loadGeneration;
    const total = this.imageIds.length;
    let loaded = 0;
    this.events.loadProgress(0, total);
    const queue = [...this.imageIds];
    const worker = async () => {
      for (let imageId = queue.shift(); imageId !== undefined; imageId = queue.shift()) {
        if (generation !== this.loadGeneration) return;
        try {
          await core.imageLoader.loadAndCacheImage(imageId);
        } catch (error) {
          console.warn('an image did not load', imageId, error);
        }
        loaded += 1;
        if (generation === this.loadGeneration) this.events.loadProgress(loaded, total);
      }
    };
    await Promise.all(Array.from({ length: PRELOAD_CONCURRENCY }, worker));
  }

  selectTool(tool: ReadingTool): void {
    // Passive drops only the primary button: zoom and pan stay on their own buttons, and
    // measurements stay shown (and can still be moved by their handles).
    if (this.activeTool !== 'Pointer') this.toolGroup.setToolPassive(toolNames[this.activeTool]);
    this.activeTool = tool;
    if (tool !== 'Pointer')
      this.toolGroup.setToolActive(toolNames[tool], { bindings: [{ mouseButton: MouseBindings.Primary }] });
  }

  get tool(): ReadingTool {
    return this.activeTool;
  }

  /** The view as the joint read describes it (undefined before a series is shown). */
  readView(): JointReadView | undefined {
    const viewport = this.viewport;
    const imageId = viewport.getCurrentImageId?.();
    if (!imageId || !this.seriesInstanceUid) return undefined;
    const { voiRange, invert } = viewport.getProperties();
    const presentation = viewport.getViewPresentation();
    let voi: JointReadVoi | null = null;
    if (voiRange) {
      const { windowCenter, windowWidth } = core.utilities.windowLevel.toWindowLevel(voiRange.lower, voiRange.upper);
      voi = { windowCenter: round(windowCenter, 2), windowWidth: Math.max(1, round(windowWidth, 2)) };
    }
    const rotation = (((Math.round((presentation.rotation ?? 0) / 90) * 90) % 360) + 360) % 360;
    return {
      studyInstanceUid: this.studyInstanceUid,
      seriesInstanceUid: this.seriesInstanceUid,
      imageIndex: viewport.getCurrentImageIdIndex(),
      voi,
      zoom: clamp(round(viewport.getZoom() / this.fittedZoom(), 4), 0.05, 64),
      pan: this.relativePan(imageId),
      rotation: rotation as JointReadView['rotation'],
      flipHorizontal: presentation.flipHorizontal ?? false,
      flipVertical: presentation.flipVertical ?? false,
      invert: invert ?? false,
      cine: { ...this.cine },
    };
  }

  /**
   * Where the viewport's centre lies on the image, as fractions of the image's width and height
   * from its centre: the same anatomy is centred whatever the screen's size.
   */
  private relativePan(imageId: string): [number, number] {
    const { width, height } = this.element.getBoundingClientRect();
    const centre = this.viewport.canvasToWorld([width / 2, height / 2]);
    const [column, row] = core.utilities.worldToImageCoords(imageId, centre) ?? [0, 0];
    const { columns, rows } = this.imageSize();
    return [clamp(round(column / columns - 0.5, 5), -10, 10), clamp(round(row / rows - 0.5, 5), -10, 10)];
  }

  private imageSize(): { columns: number; rows: number } {
    const image = this.images[this.viewport.getCurrentImageIdIndex()];
    const columns = Number(image?.metadata['00280011']?.Value?.[0] ?? 1) || 1;
    const rows = Number(image?.metadata['00280010']?.Value?.[0] ?? 1) || 1;
    return { columns, rows };
  }

  /**
   * What Cornerstone's `getZoom()` says when the image just fits the viewport: the joint read's
   * zoom is relative to that. On the GPU `getZoom()` is already a ratio to the fitted camera (1);
   * the CPU fallback (no WebGL) reports its canvas scale instead — canvas pixels per image pixel
   * along a column — which for a fitted image follows from the image's and the element's sizes
   * as Cornerstone's own CPU fit computes them.
   */
  private fittedZoom(): number {
    if (!core.getShouldUseCPURendering()) return 1;
    const image = this.images[this.viewport.getCurrentImageIdIndex()];
    const spacing = (image?.metadata['00280030']?.Value ?? []).map(Number);
    const rowSpacing = spacing[0] && spacing[0] > 0 ? spacing[0] : 1;
    const columnSpacing = spacing[1] && spacing[1] > 0 ? spacing[1] : rowSpacing;
    const { columns, rows } = this.imageSize();
    const { clientWidth: width, clientHeight: height } = this.element;
    if (width <= 0 || height <= 0) return 1;
    // Columns × column spacing wide and rows × row spacing high, fitted by its tighter side.
    const widthLimited = (columns * columnSpacing) / (rows * rowSpacing) > width / height;
    return widthLimited ? (width * rowSpacing) / (columns * columnSpacing) : height / rows;
  }

  /** Shows a view (the presenter's, or this user's own after changing a part of it). */
  async applyView(view: JointReadView): Promise<void> {
    const viewport = this.viewport;
    if (view.seriesInstanceUid !== this.seriesInstanceUid || this.imageIds.length === 0) return;
    this.applyingRemote = true;
    try {
      const index = Math.min(view.imageIndex, this.imageIds.length - 1);
      if (!(this.cine.playing && view.cine.playing) && viewport.getCurrentImageIdIndex() !== index) {
        await viewport.setImageIdIndex(index);
      }
      if (view.voi) {
        const { lower, upper } = core.utilities.windowLevel.toLowHighRange(view.voi.windowWidth, view.voi.windowCenter);
        viewport.setProperties({ voiRange: { lower, upper }, invert: view.invert });
      } else {
        viewport.setProperties({ invert: view.invert });
      }
      viewport.setViewPresentation({
        rotation: view.rotation,
        flipHorizontal: view.flipHorizontal,
        flipVertical: view.flipVertical,
      });
      this.zoomAndCentre(view.zoom, view.pan);
      this.setCine(view.cine);
      viewport.render();
      this.lastView = this.readView();
    } finally {
      this.applyingRemote = false;
    }
  }

  /** The joint read's zoom (relative to the fitted image) and pan, on this screen. */
  private zoomAndCentre(zoom: number, pan: [number, number]): void {
    this.viewport.setZoom(zoom * this.fittedZoom());
    this.centreOn(pan);
  }

  /** Moves the camera so that the viewport's centre shows the given relative point of the image. */
  private centreOn(pan: [number, number]): void {
    const viewport = this.viewport;
    const imageId = viewport.getCurrentImageId();
    if (!imageId) return;
    const { columns, rows } = this.imageSize();
    const target = core.utilities.imageToWorldCoords(imageId, [(pan[0] + 0.5) * columns, (pan[1] + 0.5) * rows]);
    if (!target) return;
    const camera = viewport.getCamera();
    const focal = camera.focalPoint as Point3;
    const position = camera.position as Point3;
    const shift: Point3 = [target[0] - focal[0], target[1] - focal[1], target[2] - focal[2]];
    viewport.setCamera({
      focalPoint: target as Point3,
      position: [position[0] + shift[0], position[1] + shift[1], position[2] + shift[2]],
    });
  }

  /** Changes a part of the view from a button (preset, rotate, flip, invert, cine). */
  async patchView(patch: JointReadViewPatch): Promise<void> {
    const current = this.readView();
    if (!current) return;
    this.lastInputAt = performance.now();
    const next = { ...current, ...patch };
    if (patch.cine) this.cine = { ...patch.cine };
    await this.applyView(next);
    this.emitView();
  }

  /** Back to the image's own window and the fitted, unrotated view. */
  async resetView(): Promise<void> {
    this.lastInputAt = performance.now();
    this.viewport.resetProperties();
    this.viewport.resetCamera();
    this.viewport.render();
    this.emitView();
  }

  private setCine(cine: JointReadView['cine']): void {
    const same = cine.playing === this.cine.playing && cine.framesPerSecond === this.cine.framesPerSecond;
    this.cine = { ...cine };
    if (same && !cine.playing) return;
    if (cine.playing)
      tools.utilities.cine.playClip(this.element, { framesPerSecond: cine.framesPerSecond, loop: true });
    else tools.utilities.cine.stopClip(this.element);
  }

  private stopCine(): void {
    if (this.cine.playing) tools.utilities.cine.stopClip(this.element);
    this.cine = { ...this.cine, playing: false };
  }

  /** View events come in bursts (a render after each change): one report per frame. */
  private queueViewEvent(): void {
    if (this.viewEventQueued || this.applyingRemote) return;
    this.viewEventQueued = true;
    requestAnimationFrame(() => {
      this.viewEventQueued = false;
      this.emitView();
    });
  }

  private emitView(): void {
    const view = this.readView();
    this.lastView = view;
    if (view) this.events.viewChanged(view, performance.now() - this.lastInputAt < LOCAL_INPUT_WINDOW_MS);
  }

  private pointerAt(event: PointerEvent): void {
    if (this.activeTool !== 'Pointer') return;
    const imageId = this.viewport.getCurrentImageId();
    if (!imageId) return;
    const rect = this.element.getBoundingClientRect();
    const world = this.viewport.canvasToWorld([event.clientX - rect.left, event.clientY - rect.top]);
    const [column, row] = core.utilities.worldToImageCoords(imageId, world) ?? [0, 0];
    this.events.pointerMoved({
      seriesInstanceUid: this.seriesInstanceUid,
      imageIndex: this.viewport.getCurrentImageIdIndex(),
      column: round(column, 2),
      row: round(row, 2),
    });
  }

  /** Where a pointer in image pixels falls on this screen (CSS pixels in the element), if shown. */
  pointerPosition(pointer: JointReadPointer): { x: number; y: number } | null {
    if (pointer.seriesInstanceUid !== this.seriesInstanceUid) return null;
    if (pointer.imageIndex !== this.viewport.getCurrentImageIdIndex()) return null;
    const imageId = this.imageIds[pointer.imageIndex];
    if (!imageId) return null;
    const world = core.utilities.imageToWorldCoords(imageId, [pointer.column, pointer.row]);
    if (!world) return null;
    const [x, y] = this.viewport.worldToCanvas(world);
    return { x, y };
  }

  private annotationEvent(event: CustomEvent<{ annotation: ToolAnnotation }>): void {
    if (this.applyingRemote) return;
    const { annotation } = event.detail;
    const converted = this.toJointRead(annotation);
    if (converted) this.events.annotationChanged(converted);
  }

  private toJointRead(annotation: ToolAnnotation): JointReadAnnotation | undefined {
    const tool = measurementByToolName.get(annotation.metadata?.toolName ?? '');
    const uid = annotation.annotationUID;
    const referenced = annotation.metadata?.referencedImageId;
    if (!tool || !uid || !referenced) return undefined;
    const imageIndex = this.imageIds.indexOf(referenced);
    const points = (annotation.data.handles?.points ?? []) as Point3[];
    if (imageIndex < 0 || points.length === 0) return undefined;
    const text = (annotation.data as { text?: unknown }).text;
    return {
      annotationUid: uid,
      tool,
      seriesInstanceUid: this.seriesInstanceUid,
      imageIndex,
      points: points.slice(0, 16).map((point) => [point[0], point[1], point[2]] as Point3),
      ...(typeof text === 'string' && text !== '' ? { text: text.slice(0, 500) } : {}),
    };
  }

  /** Makes this screen's annotations those of the joint read (the presenter's, for followers). */
  showAnnotations(annotations: readonly JointReadAnnotation[]): void {
    const wanted = new Map(
      annotations.filter((a) => a.seriesInstanceUid === this.seriesInstanceUid).map((a) => [a.annotationUid, a]),
    );
    this.applyingRemote = true;
    try {
      for (const uid of [...this.syncedAnnotations]) {
        if (wanted.has(uid)) continue;
        tools.annotation.state.removeAnnotation(uid);
        this.syncedAnnotations.delete(uid);
      }
      for (const [uid, wantedAnnotation] of wanted) {
        const existing = tools.annotation.state.getAnnotation(uid);
        if (existing && samePoints(existing.data.handles?.points as Point3[] | undefined, wantedAnnotation.points))
          continue;
        if (existing) tools.annotation.state.removeAnnotation(uid);
        this.addAnnotation(wantedAnnotation);
        this.syncedAnnotations.add(uid);
      }
    } finally {
      this.applyingRemote = false;
    }
    tools.utilities.triggerAnnotationRenderForViewportIds([this.viewportId]);
  }

  private addAnnotation(annotation: JointReadAnnotation): void {
    const imageId = this.imageIds[annotation.imageIndex];
    if (!imageId) return;
    // The tool's own defaults (visibility, text box…) and the view reference of the annotated
    // image, as the tool records them when one draws here; then the presenter's points.
    const toolClass = measurementToolClasses[annotation.tool];
    const reference = this.viewport.getViewReference({ sliceIndex: annotation.imageIndex });
    const toolAnnotation = toolClass.createAnnotation(
      { metadata: { ...reference, toolName: toolClass.toolName, referencedImageId: imageId } },
      {
        annotationUID: annotation.annotationUid,
        highlighted: false,
        isLocked: true,
        data: {
          handles: { points: annotation.points.map((point) => [...point] as Point3) },
          text: annotation.text ?? '',
        },
      },
    ) as ToolAnnotation;
    tools.annotation.state.addAnnotation(toolAnnotation, this.element);
  }

  private clearAnnotations(): void {
    this.applyingRemote = true;
    try {
      for (const uid of this.syncedAnnotations) tools.annotation.state.removeAnnotation(uid);
      this.syncedAnnotations.clear();
      for (const annotation of tools.annotation.state.getAllAnnotations()) {
        if (annotation.annotationUID && measurementByToolName.has(annotation.metadata?.toolName ?? '')) {
          tools.annotation.state.removeAnnotation(annotation.annotationUID);
        }
      }
    } finally {
      this.applyingRemote = false;
    }
  }

  /** The measurements shown here, with their values in real units (for display and tests). */
  measurements(): JointReadMeasurement[] {
    return tools.annotation.state
      .getAllAnnotations()
      .filter((annotation) => measurementByToolName.has(annotation.metadata?.toolName ?? ''))
      .map((annotation) => {
        const stats =
          Object.values((annotation.data.cachedStats ?? {}) as Record<string, Record<string, unknown>>)[0] ?? {};
        const pick = (key: string) => (typeof stats[key] === 'number' ? (stats[key] as number) : undefined);
        const unit =
          typeof stats.unit === 'string'
            ? stats.unit
            : typeof stats.lengthUnits === 'string'
              ? stats.lengthUnits
              : undefined;
        return {
          annotationUid: annotation.annotationUID ?? '',
          tool: annotation.metadata?.toolName ?? '',
          length: pick('length'),
          area: pick('area'),
          mean: pick('mean'),
          stdDev: pick('stdDev'),
          unit,
        };
      });
  }

  /** Removes the selected measurements (the presenter's Delete key). */
  deleteSelected(): void {
    for (const annotationUid of tools.annotation.selection.getAnnotationsSelected()) {
      tools.annotation.state.removeAnnotation(annotationUid);
    }
    tools.utilities.triggerAnnotationRenderForViewportIds([this.viewportId]);
  }

  /**
   * The element changed size: the same zoom and pan relative to the image as before. (The GPU
   * path keeps them by itself; the CPU fallback keeps its absolute scale, so a follower whose
   * layout settles after the presenter's view arrived would drift from it.)
   */
  resize(): void {
    const before = this.lastView;
    // What the resize renders is no change of the user's, even right after a key press or click.
    this.lastInputAt = -Infinity;
    this.engine.resize(true, true);
    if (!before || before.seriesInstanceUid !== this.seriesInstanceUid) return;
    this.applyingRemote = true;
    try {
      this.zoomAndCentre(before.zoom, before.pan);
      this.viewport.render();
    } finally {
      this.applyingRemote = false;
    }
  }

  destroy(): void {
    this.loadGeneration += 1;
    this.stopCine();
    for (const detach of this.detach) detach();
    this.clearAnnotations();
    tools.ToolGroupManager.destroyToolGroup(this.toolGroup.id);
    this.engine.destroy();
  }
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function samePoints(a: readonly Point3[] | undefined, b: readonly Point3[]): boolean {
  if (!a || a.length !== b.length) return false;
  return a.every((point, i) => point.every((value, axis) => Math.abs(value - b[i]![axis]!) < 1e-6));
}
