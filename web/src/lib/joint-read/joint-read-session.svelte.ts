import {
  JointReadChangeThrottle,
  JointReadFollower,
  UpdatePacer,
  applyJointReadChanges,
  type ConferenceRequest,
  type JointReadAnnotation,
  type JointReadChange,
  type JointReadPointer,
  type JointReadPresenter,
  type JointReadSnapshot,
  type JointReadState,
  type JointReadView,
  type JointReadViewPatch,
  type SiteReadiness,
} from '@telemed/contract';
import type { SignalingRequest, SignalingSocket } from '#lib/conference/signaling-socket.ts';

/**
 * The joint read as one participant's browser takes part in it, over the call's signaling
 * socket. As presenter: its own changes are shown at once and sent at most ~20 batches a second
 * (coalesced). As follower: signaling's updates are applied in sequence (a gap fetches the whole
 * state), and the user may look away locally and snap back. Also reports this browser's load
 * progress of the shared series. Its `$state` fields drive the viewer. Browser-only.
 */

/** Load progress goes out at most twice a second (the latest figures always). */
const PROGRESS_REPORTS_PER_SECOND = 2;

export class JointReadSession {
  presenter = $state<JointReadPresenter | null>(null);
  presenterRequest = $state<JointReadPresenter | null>(null);
  /** Whether this participant may grant and take the presenter role (the host). */
  mayHandOff = $state(false);
  readiness = $state<SiteReadiness[]>([]);
  /** What this screen shows: the presenter's view, or this user's own while looking away. */
  view = $state<JointReadView | null>(null);
  annotations = $state<JointReadAnnotation[]>([]);
  pointer = $state<JointReadPointer | null>(null);
  following = $state(true);
  /** The last hand-off request was refused (e.g. someone else presents and we are not the host). */
  handOffError = $state(false);

  private selfId: string | null = null;
  private readonly request: SignalingRequest;
  private readonly follower = new JointReadFollower();
  /** The presenter's own state: its changes applied as it makes them. */
  private presented: JointReadState | null = null;
  private readonly throttle: JointReadChangeThrottle;
  private readonly progress: UpdatePacer<ConferenceRequest<'jointRead:progress'>>;
  private refreshing: Promise<void> | null = null;

  constructor(socket: SignalingSocket, request: SignalingRequest) {
    this.request = request;
    this.throttle = new JointReadChangeThrottle((changes) => void this.send(changes));
    this.progress = new UpdatePacer(
      (report) => void this.request('jointRead:progress', report).catch(() => undefined),
      (_waiting, next) => next,
      { perSecond: PROGRESS_REPORTS_PER_SECOND },
    );
    socket.on('jointRead:update', (update) => {
      if (this.isPresenter) return;
      const outcome = this.follower.receive(update);
      if (outcome === 'gap') void this.refresh();
      else if (outcome === 'applied') this.publish();
    });
    socket.on('jointRead:state', (state) => this.reset(state));
    socket.on('jointRead:readiness', ({ sites }) => (this.readiness = sites));
  }

  get isPresenter(): boolean {
    return this.selfId !== null && this.presenter?.participantId === this.selfId;
  }

  get allSitesReady(): boolean {
    return this.readiness.length > 0 && this.readiness.every((site) => site.ready);
  }

  /** Once joined: the current state at once (late joiners and reconnects see the same). */
  async start(selfParticipantId: string): Promise<void> {
    this.selfId = selfParticipantId;
    this.applySnapshot(await this.request('jointRead:state', {}));
  }

  /** The presenter changed something. */
  change(change: JointReadChange): void {
    if (!this.isPresenter || !this.presented) return;
    try {
      this.presented = applyJointReadChanges(this.presented, [change]);
    } catch {
      return; // e.g. a measurement on a series no longer shown: nothing to send
    }
    this.throttle.push(change);
    this.publish();
  }

  /** A follower changes its own view; it no longer follows until `snapBack`. */
  lookAway(patch: JointReadViewPatch): void {
    if (this.isPresenter) return;
    this.follower.lookAway(patch);
    this.publish();
  }

  snapBack(): void {
    this.follower.snapBack();
    this.publish();
  }

  reportProgress(seriesInstanceUid: string, loadedImages: number, totalImages: number): void {
    this.progress.push({ seriesInstanceUid, loadedImages, totalImages });
    if (loadedImages === totalImages) this.progress.flush();
  }

  async requestPresenter(): Promise<void> {
    await this.handOff({ action: 'request' });
  }
  async release(): Promise<void> {
    this.throttle.flush();
    await this.handOff({ action: 'release' });
  }
  async take(): Promise<void> {
    await this.handOff({ action: 'take' });
  }
  async grant(participantId: string): Promise<void> {
    this.throttle.flush();
    await this.handOff({ action: 'grant', participantId });
  }

  dispose(): void {
    this.throttle.dispose();
    this.progress.dispose();
  }

  private async handOff(payload: ConferenceRequest<'jointRead:presenter'>): Promise<void> {
    this.handOffError = false;
    try {
      this.applySnapshot(await this.request('jointRead:presenter', payload));
    } catch (error) {
      this.handOffError = true;
      console.warn('the presenter hand-off was refused', error);
    }
  }

  private async send(changes: JointReadChange[]): Promise<void> {
    try {
      await this.request('jointRead:change', { changes });
    } catch (error) {
      // No longer the presenter (taken over meanwhile) or out of step: the whole state repairs it.
      console.warn('a joint-read change was refused', error);
      await this.refresh();
    }
  }

  private refresh(): Promise<void> {
    this.refreshing ??= this.request('jointRead:state', {})
      .then((snapshot) => this.applySnapshot(snapshot))
      .catch((error: unknown) => console.warn('the joint-read state could not be fetched', error))
      .finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private applySnapshot(snapshot: JointReadSnapshot): void {
    this.mayHandOff = snapshot.mayHandOff;
    this.readiness = snapshot.readiness;
    this.reset(snapshot.state);
  }

  private reset(state: JointReadState): void {
    const wasPresenter = this.isPresenter;
    this.follower.reset(state);
    const current = this.follower.state ?? state;
    const presenting = this.selfId !== null && current.presenter?.participantId === this.selfId;
    if (presenting) {
      // Keep what this presenter has shown since (it is ahead of any state it is sent back).
      this.presented =
        wasPresenter && this.presented
          ? { ...this.presented, presenter: current.presenter, presenterRequest: current.presenterRequest }
          : current;
    } else {
      this.presented = null;
      this.throttle.dispose();
    }
    this.publish(current);
  }

  private publish(current = this.follower.state): void {
    const state = this.presented ?? current;
    if (!state) return;
    this.presenter = state.presenter;
    this.presenterRequest = state.presenterRequest;
    this.annotations = state.annotations;
    this.pointer = state.pointer;
    this.following = this.presented !== null || this.follower.following;
    this.view = this.presented ? this.presented.view : this.follower.view;
  }
}
