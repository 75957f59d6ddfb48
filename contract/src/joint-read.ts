import { z } from 'zod';
import { grantedStudyUidSchema } from './access-token.ts';

/**
 * Joint reading: one presenter drives a shared image view, every other participant of the live
 * session follows. Only view state crosses the link (the pixels come from the DICOM proxy), so
 * these schemas are the whole of what is synchronised. Both the browser and signaling import
 * them; signaling keeps the authoritative `JointReadState` (in Redis) and stamps every accepted
 * change with the next `seq`, so a client drops anything older than what it has shown.
 */

const uid = grantedStudyUidSchema;
const finite = z.number().finite();

/** Window centre / width in the modality's units (e.g. HU for CT); null: the image's own default. */
export const jointReadVoiSchema = z.strictObject({
  windowCenter: finite.min(-1e6).max(1e6),
  windowWidth: finite.min(1).max(1e6),
});
export type JointReadVoi = z.infer<typeof jointReadVoiSchema>;

/**
 * What the presenter shows, in values independent of the screen: `zoom` is relative to the image
 * fitted to the viewport (1 = fit), `pan` is where the viewport's centre lies on the fitted
 * image, as fractions of its width and height from the image centre. So a 13-inch laptop at the
 * island and a reading monitor at the hub show the same anatomy.
 */
export const jointReadViewSchema = z.strictObject({
  studyInstanceUid: uid,
  seriesInstanceUid: uid,
  /** Index into the series' images as sorted for display (0-based). */
  imageIndex: z.int().min(0).max(99_999),
  voi: jointReadVoiSchema.nullable(),
  zoom: finite.min(0.05).max(64),
  pan: z.tuple([finite.min(-10).max(10), finite.min(-10).max(10)]),
  rotation: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]),
  flipHorizontal: z.boolean(),
  flipVertical: z.boolean(),
  invert: z.boolean(),
  cine: z.strictObject({ playing: z.boolean(), framesPerSecond: finite.min(1).max(60) }),
});
export type JointReadView = z.infer<typeof jointReadViewSchema>;

/** A change to some of the view (e.g. only `imageIndex` while scrolling). */
export const jointReadViewPatchSchema = jointReadViewSchema
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, 'an empty view change');
export type JointReadViewPatch = z.infer<typeof jointReadViewPatchSchema>;

export const annotationTools = ['Length', 'Angle', 'EllipticalROI', 'RectangleROI', 'ArrowAnnotate'] as const;

/** A measurement or mark, its points in world (patient) coordinates in mm. */
export const jointReadAnnotationSchema = z.strictObject({
  annotationUid: z.uuid(),
  tool: z.enum(annotationTools),
  seriesInstanceUid: uid,
  imageIndex: z.int().min(0).max(99_999),
  points: z
    .array(z.tuple([finite, finite, finite]))
    .min(1)
    .max(16),
  /** The arrow's label; plain text, shown as text (never as markup). */
  text: z.string().max(500).optional(),
});
export type JointReadAnnotation = z.infer<typeof jointReadAnnotationSchema>;

/** The laser pointer, in image pixel coordinates (column, row) of one image. */
export const jointReadPointerSchema = z.strictObject({
  seriesInstanceUid: uid,
  imageIndex: z.int().min(0).max(99_999),
  column: finite.min(-1e5).max(1e5),
  row: finite.min(-1e5).max(1e5),
});
export type JointReadPointer = z.infer<typeof jointReadPointerSchema>;

/** One change the presenter sends; several may travel together after coalescing. */
export const jointReadChangeSchema = z.discriminatedUnion('kind', [
  /** Replaces the whole view (opening a series). */
  z.strictObject({ kind: z.literal('view'), view: jointReadViewSchema }),
  z.strictObject({ kind: z.literal('view-patch'), patch: jointReadViewPatchSchema }),
  z.strictObject({ kind: z.literal('annotation-upsert'), annotation: jointReadAnnotationSchema }),
  z.strictObject({ kind: z.literal('annotation-delete'), annotationUid: z.uuid() }),
  z.strictObject({ kind: z.literal('pointer'), pointer: jointReadPointerSchema.nullable() }),
]);
export type JointReadChange = z.infer<typeof jointReadChangeSchema>;

/** Most annotations one read keeps (each at most a few hundred bytes). */
export const maxJointReadAnnotations = 200;

export const jointReadPresenterSchema = z.strictObject({
  participantId: z.uuid(),
  accountId: z.string().min(1).max(64),
  displayName: z.string().min(1).max(100),
  siteId: z.string().min(1).max(64),
});
export type JointReadPresenter = z.infer<typeof jointReadPresenterSchema>;

/** How far one site has loaded the shared series (the slowest participant of the site counts). */
export interface SiteReadiness {
  siteId: string;
  loadedImages: number;
  totalImages: number;
  ready: boolean;
}

/** The authoritative joint-read state of one live session (also how it is kept in Redis). */
export const jointReadStateSchema = z.strictObject({
  /** Bumped by every accepted change or hand-off; clients ignore anything not newer. */
  seq: z.int().min(0),
  presenter: jointReadPresenterSchema.nullable(),
  /** A participant who asked to present, shown to the host to grant. */
  presenterRequest: jointReadPresenterSchema.nullable(),
  view: jointReadViewSchema.nullable(),
  annotations: z.array(jointReadAnnotationSchema).max(maxJointReadAnnotations),
  pointer: jointReadPointerSchema.nullable(),
});
export type JointReadState = z.infer<typeof jointReadStateSchema>;

export const emptyJointReadState = (): JointReadState => ({
  seq: 0,
  presenter: null,
  presenterRequest: null,
  view: null,
  annotations: [],
  pointer: null,
});

export class JointReadError extends Error {
  readonly code: 'forbidden' | 'conflict';
  constructor(code: JointReadError['code'], message: string) {
    super(message);
    this.name = 'JointReadError';
    this.code = code;
  }
}

/**
 * Applies changes to a state (pure: returns a new state). A patch or an annotation needs an open
 * view; an annotation or pointer must be on the series being shown.
 */
export function applyJointReadChanges(state: JointReadState, changes: readonly JointReadChange[]): JointReadState {
  let { view, annotations, pointer } = state;
  for (const change of changes) {
    switch (change.kind) {
      case 'view':
        // Another series: its marks and the pointer belong to the one left.
        if (view?.seriesInstanceUid !== change.view.seriesInstanceUid) {
          pointer = null;
        }
        view = change.view;
        break;
      case 'view-patch': {
        if (!view) throw new JointReadError('conflict', 'no image is open to change');
        const next: JointReadView = { ...view, ...change.patch };
        if (next.seriesInstanceUid !== view.seriesInstanceUid) pointer = null;
        view = next;
        break;
      }
      case 'annotation-upsert': {
        if (!view) throw new JointReadError('conflict', 'no image is open to annotate');
        const others = annotations.filter((one) => one.annotationUid !== change.annotation.annotationUid);
        if (others.length >= maxJointReadAnnotations) {
          throw new JointReadError('conflict', `at most ${maxJointReadAnnotations} annotations per read`);
        }
        annotations = [...others, change.annotation];
        break;
      }
      case 'annotation-delete':
        annotations = annotations.filter((one) => one.annotationUid !== change.annotationUid);
        break;
      case 'pointer':
        pointer = change.pointer;
        break;
    }
  }
  return { ...state, seq: state.seq + 1, view, annotations, pointer };
}

/**
 * Who may present, as signaling decides it: the host may always take or hand over the role; a
 * participant may take it only when nobody presents, else asks and waits for the host.
 */
export function handOff(
  state: JointReadState,
  action:
    | { kind: 'request'; by: JointReadPresenter }
    | { kind: 'grant'; to: JointReadPresenter; byHost: boolean }
    | { kind: 'release'; by: string }
    | { kind: 'take'; by: JointReadPresenter; byHost: boolean },
): JointReadState {
  const bumped = (next: Partial<JointReadState>): JointReadState => ({ ...state, ...next, seq: state.seq + 1 });
  switch (action.kind) {
    case 'request':
      if (state.presenter?.participantId === action.by.participantId) return state;
      if (!state.presenter) return bumped({ presenter: action.by, presenterRequest: null });
      return bumped({ presenterRequest: action.by });
    case 'grant':
      if (!action.byHost) throw new JointReadError('forbidden', 'only the host hands the presenter role over');
      return bumped({ presenter: action.to, presenterRequest: null, pointer: null });
    case 'take':
      if (!action.byHost && state.presenter && state.presenter.participantId !== action.by.participantId) {
        throw new JointReadError('forbidden', 'someone else presents: ask the host');
      }
      return bumped({ presenter: action.by, presenterRequest: null, pointer: null });
    case 'release':
      if (state.presenter?.participantId !== action.by) {
        return state.presenterRequest?.participantId === action.by ? bumped({ presenterRequest: null }) : state;
      }
      return bumped({ presenter: null, pointer: null });
  }
}

/**
 * Merges a run of changes into the fewest that leave the same state: consecutive view patches
 * become one, only the last pointer position counts, a whole view replaces the view changes
 * just before it.
 * Annotation changes keep their order (each is an edit somebody made).
 */
export function coalesceJointReadChanges(changes: readonly JointReadChange[]): JointReadChange[] {
  let out: JointReadChange[] = [];
  for (const change of changes) {
    if (change.kind === 'pointer') {
      // Only the newest position counts, in its place (a series change before it still clears it).
      out = out.filter((earlier) => earlier.kind !== 'pointer');
      out.push(change);
      continue;
    }
    // A view change may merge into the view change before it, past a pointer move in between
    // unless it opens another series (which would clear that pointer).
    const at = out.findLastIndex((earlier) => earlier.kind !== 'pointer');
    const last = out[at];
    const pointerBetween = at < out.length - 1;
    const opensSeries = change.kind === 'view' || (change.kind === 'view-patch' && 'seriesInstanceUid' in change.patch);
    const mergeable = !(pointerBetween && opensSeries);
    if (mergeable && change.kind === 'view-patch' && last?.kind === 'view-patch') {
      out[at] = { kind: 'view-patch', patch: { ...last.patch, ...change.patch } };
    } else if (mergeable && change.kind === 'view-patch' && last?.kind === 'view') {
      out[at] = { kind: 'view', view: { ...last.view, ...change.patch } };
    } else if (mergeable && change.kind === 'view' && (last?.kind === 'view' || last?.kind === 'view-patch')) {
      out[at] = change;
    } else {
      out.push(change);
    }
  }
  return out;
}

/** At most this many change batches per second leave a presenter (and reach each follower). */
export const jointReadMaxUpdatesPerSecond = 20;

/**
 * Paces what goes out over a thin link: on average at most `perSecond` sends, up to `burst` of
 * them back to back (a token bucket). What is pushed while no send is due waits, merged into one
 * by `merge`; when `merge` cannot join two (it returns undefined) the waiting one goes out at
 * once. The latest item always goes out (a trailing send), so the far side converges. Clock and
 * timer are the global ones unless `now` is given (tests).
 */
export class UpdatePacer<T> {
  private pending: T | undefined;
  private tokens: number;
  private tokensAt: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly send: (item: T) => void;
  private readonly merge: (waiting: T, next: T) => T | undefined;
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(
    send: (item: T) => void,
    merge: (waiting: T, next: T) => T | undefined,
    options: { perSecond?: number; burst?: number; now?: () => number } = {},
  ) {
    this.send = send;
    this.merge = merge;
    this.perSecond = options.perSecond ?? jointReadMaxUpdatesPerSecond;
    this.burst = options.burst ?? 1;
    this.now = options.now ?? (() => performance.now());
    this.tokens = this.burst;
    this.tokensAt = this.now();
  }

  push(item: T): void {
    const merged = this.pending === undefined ? item : this.merge(this.pending, item);
    if (merged === undefined) {
      this.flush();
      this.pending = item;
    } else {
      this.pending = merged;
    }
    if (this.timer !== undefined) return;
    this.refill();
    if (this.tokens >= 1) this.flush();
    else this.timer = setTimeout(() => this.flush(), ((1 - this.tokens) * 1000) / this.perSecond);
  }

  /** Sends what is waiting now (also before a hand-off or leaving, so nothing is lost). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const item = this.pending;
    if (item === undefined) return;
    this.pending = undefined;
    this.refill();
    this.tokens -= 1;
    this.send(item);
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.tokensAt) * this.perSecond) / 1000);
    this.tokensAt = now;
  }
}

/**
 * A presenter's changes, at most `perSecond` batches a second (one at a time, no burst), each
 * batch the coalesced changes since the last.
 */
export class JointReadChangeThrottle {
  private readonly pacer: UpdatePacer<JointReadChange[]>;

  constructor(send: (changes: JointReadChange[]) => void, options: { perSecond?: number; now?: () => number } = {}) {
    this.pacer = new UpdatePacer(send, (waiting, next) => coalesceJointReadChanges([...waiting, ...next]), options);
  }

  push(change: JointReadChange): void {
    this.pacer.push([change]);
  }

  flush(): void {
    this.pacer.flush();
  }

  dispose(): void {
    this.pacer.dispose();
  }
}

/**
 * What signaling broadcasts after accepting changes: how to get from the state at `baseSeq` to
 * the one at `seq` (several accepted batches may travel as one, coalesced).
 */
export interface JointReadUpdate {
  baseSeq: number;
  seq: number;
  changes: JointReadChange[];
}

/**
 * A follower's side: shows the newest state it has seen, applying updates in sequence; an old or
 * repeated one is dropped, a gap (an update lost or overtaken) asks for the full state. It may
 * look away locally (own scroll or window) until it snaps back to the presenter.
 */
export class JointReadFollower {
  private latest: JointReadState | undefined;
  private localView: JointReadView | undefined;

  /** A full state (on joining, reconnecting, a hand-off or after a gap); ignored if not newer. */
  reset(state: JointReadState): boolean {
    if (this.latest && state.seq <= this.latest.seq) return false;
    this.latest = state;
    return true;
  }

  /**
   * An update: `applied`, `stale` (already shown, dropped) or `gap` (the caller fetches the
   * full state and calls `reset`).
   */
  receive(update: JointReadUpdate): 'applied' | 'stale' | 'gap' {
    if (!this.latest) return 'gap';
    if (update.seq <= this.latest.seq) return 'stale';
    if (update.baseSeq !== this.latest.seq) return 'gap';
    try {
      this.latest = { ...applyJointReadChanges(this.latest, update.changes), seq: update.seq };
    } catch {
      return 'gap'; // cannot happen if in step with signaling; the full state repairs it anyway
    }
    return 'applied';
  }

  /** The follower changes its own view; it stops following until `snapBack`. */
  lookAway(patch: JointReadViewPatch): void {
    const base = this.localView ?? this.latest?.view;
    if (!base) return;
    this.localView = { ...base, ...patch };
  }

  snapBack(): void {
    this.localView = undefined;
  }

  get following(): boolean {
    return this.localView === undefined;
  }

  get state(): JointReadState | undefined {
    return this.latest;
  }

  /** What to show: the presenter's view, or the local one while looking away. */
  get view(): JointReadView | null {
    return this.localView ?? this.latest?.view ?? null;
  }
}
