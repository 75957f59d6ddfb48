import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JointReadFollower, type JointReadChange, type JointReadUpdate, type JointReadView } from '@telemed/contract';
import {
  joinDemo,
  nextEvent,
  request,
  send,
  startConferenceTestSystem,
  type ConferenceClient,
  type ConferenceTestSystem,
} from './conference-test-system.ts';

const view: JointReadView = {
  studyInstanceUid: '2.25.166300469188732069190577687350041961974',
  seriesInstanceUid: '2.25.166300469188732069190577687350041961974.1',
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
const scroll = (imageIndex: number): JointReadChange => ({ kind: 'view-patch', patch: { imageIndex } });

/** A follower fed by the socket the way the viewer is: updates in order, the full state after a gap. */
function follow(client: ConferenceClient): JointReadFollower & { updates: JointReadUpdate[] } {
  const follower = Object.assign(new JointReadFollower(), { updates: [] as JointReadUpdate[] });
  client.on('jointRead:state', (state) => follower.reset(state));
  client.on('jointRead:update', (update) => {
    follower.updates.push(update);
    if (follower.receive(update) === 'gap') {
      void request(client, 'jointRead:state', {}).then((snapshot) => follower.reset(snapshot.state));
    }
  });
  return follower;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 20) {
    if (waited > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('joint read through signaling, two nodes sharing Redis', () => {
  let system: ConferenceTestSystem;
  let host: ConferenceClient; // tanaka, the demo session's host, on node 0
  let island: ConferenceClient; // sato (aoshima), on node 1
  let islandView: ReturnType<typeof follow>;

  beforeAll(async () => {
    system = await startConferenceTestSystem({ signalingNodes: 2 });
    host = await system.connect('tanaka', { node: 0 });
    island = await system.connect('sato', { node: 1 });
    await joinDemo(host);
    await joinDemo(island);
    islandView = follow(island);
    const snapshot = await request(island, 'jointRead:state', {});
    islandView.reset(snapshot.state);
  });
  afterAll(async () => {
    host?.close();
    island?.close();
    await system?.close();
  });

  it('lets the first to ask present, and only the presenter change the view', async () => {
    const presenting = await request(host, 'jointRead:presenter', { action: 'request' });
    expect(presenting.state.presenter?.displayName).toBe('田中 一郎');
    expect(presenting.mayHandOff).toBe(true);
    await until(() => islandView.state?.presenter?.displayName === '田中 一郎', 'the presenter to be shown');
    const refused = await send(island, 'jointRead:change', { changes: [{ kind: 'view', view }] });
    expect(refused).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const invalid = await send(host, 'jointRead:change', { changes: [{ kind: 'view-patch', patch: { zoom: -1 } }] });
    expect(invalid).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    await request(host, 'jointRead:change', { changes: [{ kind: 'view', view }] });
    await until(() => islandView.view?.seriesInstanceUid === view.seriesInstanceUid, 'the series to open');
  });

  it('carries W/L, zoom, a measurement and the pointer, and converges after a burst of scrolling', async () => {
    const before = islandView.updates.length;
    for (let index = 1; index <= 40; index += 1) {
      // Not awaited one by one: a presenter's wheel does not wait for acks either.
      void request(host, 'jointRead:change', { changes: [scroll(index)] });
    }
    await request(host, 'jointRead:change', {
      changes: [
        { kind: 'view-patch', patch: { voi: { windowCenter: 40, windowWidth: 400 }, zoom: 2 } },
        {
          kind: 'annotation-upsert',
          annotation: {
            annotationUid: '3f1c8a52-0b7e-4c55-9a51-3c2b8d4e6f70',
            tool: 'Length',
            seriesInstanceUid: view.seriesInstanceUid,
            imageIndex: 40,
            points: [
              [0, 0, 0],
              [30, 40, 0],
            ],
          },
        },
        {
          kind: 'pointer',
          pointer: { seriesInstanceUid: view.seriesInstanceUid, imageIndex: 40, column: 256, row: 200 },
        },
      ],
    });
    await until(() => islandView.view?.zoom === 2 && islandView.state?.pointer?.column === 256, 'convergence');
    expect(islandView.view).toMatchObject({ imageIndex: 40, voi: { windowCenter: 40, windowWidth: 400 } });
    expect(islandView.state?.annotations[0]?.points[1]).toEqual([30, 40, 0]);
    // 41 accepted batches reached the island in fewer updates: held to ~20 a second and merged.
    expect(islandView.updates.length - before).toBeLessThan(41);
  });

  it('gives a late joiner on another node the whole state at once', async () => {
    const late = await system.connect('suzuki', { node: 1 });
    try {
      await joinDemo(late);
      const snapshot = await request(late, 'jointRead:state', {});
      expect(snapshot.state.view).toMatchObject({ imageIndex: 40, zoom: 2 });
      expect(snapshot.state.presenter?.displayName).toBe('田中 一郎');
      expect(snapshot.state.annotations).toHaveLength(1);
      expect(snapshot.mayHandOff).toBe(false);
    } finally {
      late.close();
    }
  });

  it('hands the presenter role over through the host, and the host takes it back', async () => {
    const asked = await request(island, 'jointRead:presenter', { action: 'request' });
    expect(asked.state.presenter?.displayName).toBe('田中 一郎');
    expect(asked.state.presenterRequest?.displayName).toBe('佐藤 花子');
    const refusedGrant = await send(island, 'jointRead:presenter', {
      action: 'grant',
      participantId: asked.state.presenterRequest!.participantId,
    });
    expect(refusedGrant).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const handedOver = nextEvent(island, 'jointRead:state');
    const granted = await request(host, 'jointRead:presenter', {
      action: 'grant',
      participantId: asked.state.presenterRequest!.participantId,
    });
    expect(granted.state.presenter?.displayName).toBe('佐藤 花子');
    expect((await handedOver).presenter?.displayName).toBe('佐藤 花子');
    await request(island, 'jointRead:change', { changes: [scroll(12)] });
    expect(await send(host, 'jointRead:change', { changes: [scroll(13)] })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    const taken = await request(host, 'jointRead:presenter', { action: 'take' });
    expect(taken.state.presenter?.displayName).toBe('田中 一郎');
    expect(taken.state.view?.imageIndex).toBe(12);
    const audit = await system.recentAudit(20);
    const handOffs = audit.filter((entry) => entry.action === 'joint-read.presenter');
    expect(handOffs.length).toBeGreaterThanOrEqual(3);
  });

  it('reports load progress per site, the slowest participant counting', async () => {
    await request(island, 'jointRead:progress', {
      seriesInstanceUid: view.seriesInstanceUid,
      loadedImages: 10,
      totalImages: 20,
    });
    const readiness = nextEvent(island, 'jointRead:readiness');
    await request(host, 'jointRead:progress', {
      seriesInstanceUid: view.seriesInstanceUid,
      loadedImages: 20,
      totalImages: 20,
    });
    const { sites } = await readiness;
    expect(sites).toEqual([
      { siteId: 'aoshima', loadedImages: 10, totalImages: 20, ready: false },
      { siteId: 'nankai-univ', loadedImages: 20, totalImages: 20, ready: true },
    ]);
  });

  it('keeps view state from sockets that are not in the session', async () => {
    const outsider = await system.connect('kobayashi', { node: 0 });
    try {
      let received = 0;
      outsider.on('jointRead:update', () => (received += 1));
      outsider.on('jointRead:state', () => (received += 1));
      expect(await send(outsider, 'jointRead:state', {})).toMatchObject({ ok: false, error: { code: 'conflict' } });
      expect(await send(outsider, 'jointRead:change', { changes: [scroll(1)] })).toMatchObject({
        ok: false,
        error: { code: 'conflict' },
      });
      await request(host, 'jointRead:change', { changes: [scroll(5)] });
      await until(() => islandView.view?.imageIndex === 5, 'the island to follow');
      expect(received).toBe(0);
    } finally {
      outsider.close();
    }
  });

  it('frees the presenter role when the presenter leaves', async () => {
    const freed = nextEvent(island, 'jointRead:state');
    await request(host, 'session:leave', {});
    expect((await freed).presenter).toBeNull();
  });
});
