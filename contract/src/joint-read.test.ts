import { describe, expect, it } from 'vitest';
import {
  applyJointReadChanges,
  coalesceJointReadChanges,
  emptyJointReadState,
  handOff,
  JointReadChangeThrottle,
  jointReadChangeSchema,
  JointReadFollower,
  UpdatePacer,
  type JointReadChange,
  type JointReadPresenter,
  type JointReadView,
} from './joint-read.ts';

const series = '1.2.392.200036.9116.2.6.1.48.1215.1';
const otherSeries = '1.2.392.200036.9116.2.6.1.48.1215.2';
const view: JointReadView = {
  studyInstanceUid: '1.2.392.200036.9116.2.6.1.48',
  seriesInstanceUid: series,
  imageIndex: 0,
  voi: null,
  zoom: 1,
  pan: [0, 0],
  rotation: 0,
  flipHorizontal: false,
  flipVertical: false,
  invert: false,
  cine: { playing: false, framesPerSecond: 10 },
};
const specialist: JointReadPresenter = { participantId: 'p-1', accountId: 'a-1', displayName: '佐藤', siteId: 'hub' };
const islandDoctor: JointReadPresenter = { participantId: 'p-2', accountId: 'a-2', displayName: '田中', siteId: 'isl' };
const scroll = (imageIndex: number): JointReadChange => ({ kind: 'view-patch', patch: { imageIndex } });
const pointer = (column: number): JointReadChange => ({
  kind: 'pointer',
  pointer: { seriesInstanceUid: series, imageIndex: 0, column, row: 10 },
});
const length = (annotationUid: string): JointReadChange => ({
  kind: 'annotation-upsert',
  annotation: {
    annotationUid,
    tool: 'Length',
    seriesInstanceUid: series,
    imageIndex: 3,
    points: [
      [0, 0, 0],
      [30, 40, 0],
    ],
  },
});

describe('joint-read changes', () => {
  it('validates what a presenter may send', () => {
    expect(jointReadChangeSchema.safeParse({ kind: 'view', view }).success).toBe(true);
    expect(jointReadChangeSchema.safeParse({ kind: 'view-patch', patch: {} }).success).toBe(false);
    expect(jointReadChangeSchema.safeParse({ kind: 'view-patch', patch: { zoom: 0 } }).success).toBe(false);
    expect(jointReadChangeSchema.safeParse({ kind: 'view-patch', patch: { rotation: 45 } }).success).toBe(false);
    expect(
      jointReadChangeSchema.safeParse({ kind: 'view', view: { ...view, seriesInstanceUid: '../x' } }).success,
    ).toBe(false);
    expect(jointReadChangeSchema.safeParse({ kind: 'script', code: 'alert(1)' }).success).toBe(false);
  });

  it('applies changes in order, bumping the sequence once per batch', () => {
    const opened = applyJointReadChanges(emptyJointReadState(), [{ kind: 'view', view }]);
    const state = applyJointReadChanges(opened, [
      scroll(41),
      { kind: 'view-patch', patch: { voi: { windowCenter: 40, windowWidth: 400 }, zoom: 2 } },
      length('1d7f2b1e-58a8-4f38-9d3c-0f6a9e1d2c3b'),
      pointer(120),
    ]);
    expect(state.seq).toBe(2);
    expect(state.view).toMatchObject({ imageIndex: 41, voi: { windowCenter: 40, windowWidth: 400 }, zoom: 2 });
    expect(state.annotations).toHaveLength(1);
    expect(state.pointer?.column).toBe(120);
    const deleted = applyJointReadChanges(state, [
      { kind: 'annotation-delete', annotationUid: '1d7f2b1e-58a8-4f38-9d3c-0f6a9e1d2c3b' },
    ]);
    expect(deleted.annotations).toEqual([]);
  });

  it('refuses patches and annotations before any image is open', () => {
    expect(() => applyJointReadChanges(emptyJointReadState(), [scroll(3)])).toThrow('no image is open');
    expect(() =>
      applyJointReadChanges(emptyJointReadState(), [length('1d7f2b1e-58a8-4f38-9d3c-0f6a9e1d2c3b')]),
    ).toThrow();
  });

  it('clears the pointer when another series is opened', () => {
    const state = applyJointReadChanges(emptyJointReadState(), [{ kind: 'view', view }, pointer(5)]);
    const moved = applyJointReadChanges(state, [{ kind: 'view-patch', patch: { seriesInstanceUid: otherSeries } }]);
    expect(moved.pointer).toBeNull();
  });
});

describe('coalescing', () => {
  it('merges a burst of scrolls and pointer moves into one patch and the last position', () => {
    const burst = [scroll(1), pointer(1), scroll(2), pointer(2), scroll(3), pointer(3)];
    expect(coalesceJointReadChanges(burst)).toEqual([{ kind: 'view-patch', patch: { imageIndex: 3 } }, pointer(3)]);
  });

  it('keeps annotation edits in order and in full, and never changes the end state', () => {
    const burst = [
      { kind: 'view', view } as JointReadChange,
      scroll(4),
      length('1d7f2b1e-58a8-4f38-9d3c-0f6a9e1d2c3b'),
      scroll(5),
      { kind: 'annotation-delete', annotationUid: '1d7f2b1e-58a8-4f38-9d3c-0f6a9e1d2c3b' } as JointReadChange,
      pointer(8),
      { kind: 'view-patch', patch: { seriesInstanceUid: otherSeries } } as JointReadChange,
    ];
    const merged = coalesceJointReadChanges(burst);
    expect(merged.map((change) => change.kind)).toEqual([
      'view',
      'annotation-upsert',
      'view-patch',
      'annotation-delete',
      'pointer',
      'view-patch',
    ]);
    const { seq: _a, ...direct } = applyJointReadChanges(emptyJointReadState(), burst);
    const { seq: _b, ...viaMerged } = applyJointReadChanges(emptyJointReadState(), merged);
    expect(viaMerged).toEqual(direct);
    expect(direct.pointer).toBeNull(); // the series change after the pointer still clears it
  });
});

describe('throttle', () => {
  it('sends at most the set rate, always ending with the latest state', () => {
    // A fake clock and timer queue: what is checked is the schedule, not real time.
    let now = 0;
    const due: { at: number; run: () => void }[] = [];
    const realSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = ((run: () => void, ms: number) => {
      due.push({ at: now + ms, run });
      return due.length as unknown as ReturnType<typeof setTimeout>;
    }) as typeof setTimeout;
    const sent: { at: number; batch: JointReadChange[] }[] = [];
    const throttle = new JointReadChangeThrottle((batch) => sent.push({ at: now, batch }), {
      perSecond: 20,
      now: () => now,
    });
    const runDue = () => {
      for (const timer of due.filter((one) => one.at <= now)) {
        due.splice(due.indexOf(timer), 1);
        timer.run();
      }
    };
    try {
      // 100 scroll steps in one second (every 10 ms): a mouse wheel spun hard.
      for (let step = 1; step <= 100; step += 1) {
        now = step * 10;
        runDue();
        throttle.push(scroll(step));
      }
      now += 1_000;
      runDue();
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
    for (let index = 1; index < sent.length; index += 1) {
      expect(sent[index]!.at - sent[index - 1]!.at).toBeGreaterThanOrEqual(50);
    }
    expect(sent.length).toBeGreaterThanOrEqual(19);
    expect(sent.at(-1)?.batch).toEqual([{ kind: 'view-patch', patch: { imageIndex: 100 } }]);
  });
});

describe('update pacer', () => {
  it('lets a burst through at once, then holds and merges, and sends what cannot be merged at once', () => {
    let now = 0;
    const sent: string[] = [];
    const pacer = new UpdatePacer<string>(
      (item) => sent.push(item),
      (waiting, next) => (waiting[0] === next[0] ? `${waiting}${next}` : undefined),
      { perSecond: 20, burst: 2, now: () => now },
    );
    pacer.push('a1');
    pacer.push('a2'); // the burst of two: both out at once
    pacer.push('a3'); // no token left: held
    pacer.push('a4'); // merged with the held one
    expect(sent).toEqual(['a1', 'a2']);
    pacer.push('b1'); // cannot join the held a3a4: that goes out now, b1 waits
    expect(sent).toEqual(['a1', 'a2', 'a3a4']);
    now = 1_000;
    pacer.flush();
    expect(sent).toEqual(['a1', 'a2', 'a3a4', 'b1']);
    pacer.dispose();
  });
});

describe('presenter hand-off', () => {
  it('lets the first asker present, queues the next for the host, who grants and takes back', () => {
    let state = handOff(emptyJointReadState(), { kind: 'request', by: specialist });
    expect(state.presenter?.participantId).toBe('p-1');
    state = handOff(state, { kind: 'request', by: islandDoctor });
    expect(state.presenter?.participantId).toBe('p-1');
    expect(state.presenterRequest?.participantId).toBe('p-2');
    expect(() => handOff(state, { kind: 'grant', to: islandDoctor, byHost: false })).toThrow('only the host');
    expect(() => handOff(state, { kind: 'take', by: islandDoctor, byHost: false })).toThrow('ask the host');
    state = handOff(state, { kind: 'grant', to: islandDoctor, byHost: true });
    expect(state.presenter?.participantId).toBe('p-2');
    expect(state.presenterRequest).toBeNull();
    state = handOff(state, { kind: 'take', by: specialist, byHost: true });
    expect(state.presenter?.participantId).toBe('p-1');
    state = handOff(state, { kind: 'release', by: 'p-1' });
    expect(state.presenter).toBeNull();
    expect(state.seq).toBe(5);
  });
});

describe('follower', () => {
  const opened = applyJointReadChanges(emptyJointReadState(), [{ kind: 'view', view }]);

  it('applies updates in sequence, drops old and repeated ones, and asks for the full state after a gap', () => {
    const follower = new JointReadFollower();
    expect(follower.receive({ baseSeq: 0, seq: 1, changes: [scroll(1)] })).toBe('gap'); // nothing to apply it to yet
    expect(follower.reset(opened)).toBe(true); // a late joiner: the whole state in one message
    expect(follower.receive({ baseSeq: 1, seq: 2, changes: [scroll(10)] })).toBe('applied');
    expect(follower.receive({ baseSeq: 1, seq: 2, changes: [scroll(10)] })).toBe('stale');
    expect(follower.receive({ baseSeq: 0, seq: 1, changes: [scroll(99)] })).toBe('stale');
    expect(follower.receive({ baseSeq: 3, seq: 4, changes: [scroll(40)] })).toBe('gap');
    expect(follower.view?.imageIndex).toBe(10);
    // Two batches coalesced by signaling travel as one update from the state the follower has.
    expect(follower.receive({ baseSeq: 2, seq: 4, changes: [scroll(40)] })).toBe('applied');
    expect(follower.view?.imageIndex).toBe(40);
    expect(follower.state?.seq).toBe(4);
    // After a real gap the full state repairs it; an older full state arriving late is ignored.
    const server = applyJointReadChanges({ ...opened, seq: 6 }, [scroll(70)]);
    expect(follower.receive({ baseSeq: 6, seq: 7, changes: [scroll(70)] })).toBe('gap');
    expect(follower.reset(server)).toBe(true);
    expect(follower.reset(opened)).toBe(false);
    expect(follower.view?.imageIndex).toBe(70);
  });

  it('looks away locally and snaps back to the presenter', () => {
    const follower = new JointReadFollower();
    follower.reset(opened);
    follower.lookAway({ voi: { windowCenter: -600, windowWidth: 1500 } });
    follower.receive({ baseSeq: 1, seq: 2, changes: [scroll(30)] });
    expect(follower.following).toBe(false);
    expect(follower.view?.imageIndex).toBe(0);
    follower.snapBack();
    expect(follower.view?.imageIndex).toBe(30);
    expect(follower.view?.voi).toBeNull();
  });
});
