import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-adapter';
import { Server } from 'socket.io';
import { io as connectClient, type Socket } from 'socket.io-client';
import { connectRedis, type RedisClient } from '@telemed/domain';
import type { JointReadView } from '@telemed/contract';
import {
  joinDemo,
  request,
  startConferenceTestSystem,
  type ConferenceClient,
} from '../../signaling/src/conference-test-system.ts';
import { startTestRedis } from '../../stack/private-redis.ts';
import { childFigures } from '../child-figures.ts';

/**
 * `npm run bench:sync`, protocol level: one presenter and FOLLOWERS follower sockets spread over
 * two signaling nodes sharing Redis; the presenter changes the image 20 times a second for
 * SECONDS seconds; each follower's receive latency (send → `jointRead:update` arriving) gives
 * p50/p95/p99. The baseline, in the same run on the same Redis: a plain Socket.IO broadcast to a
 * room through @socket.io/redis-adapter between two bare servers, same clients, same rate. The
 * ratio is what the joint read (validation, Redis compare-and-set, coalescing) adds.
 *
 * Then the browser level (bench/sync/browser-render.ts, skipped with BENCH_SYNC_SKIP_BROWSER=1),
 * whose figures are folded into the last line.
 */

const FOLLOWERS = Number(process.env.BENCH_SYNC_FOLLOWERS ?? 100);
const SECONDS = Number(process.env.BENCH_SYNC_SECONDS ?? 30);
const RATE = 20;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const round2 = (value: number) => Math.round(value * 100) / 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const view: JointReadView = {
  studyInstanceUid: '2.25.166300469188732069190577687350041961974',
  seriesInstanceUid: '2.25.166300469188732069190577687350041961974.1',
  imageIndex: 0,
  voi: { windowCenter: 40, windowWidth: 400 },
  zoom: 1,
  pan: [0, 0],
  rotation: 0,
  flipHorizontal: false,
  flipVertical: false,
  invert: false,
  cine: { playing: false, framesPerSecond: 10 },
};

/** Sends `RATE` numbered messages a second for `SECONDS`; returns when each number was sent. */
async function drive(send: (index: number) => void): Promise<Map<number, number>> {
  const sentAt = new Map<number, number>();
  const total = RATE * SECONDS;
  const started = performance.now();
  for (let index = 1; index <= total; index += 1) {
    const due = started + (index * 1000) / RATE;
    await sleep(Math.max(0, due - performance.now()));
    sentAt.set(index, performance.now());
    send(index);
  }
  await sleep(1_000); // the last ones arriving
  return sentAt;
}

function latencies(received: { index: number; at: number }[], sentAt: Map<number, number>): number[] {
  return received.flatMap(({ index, at }) => {
    const sent = sentAt.get(index);
    return sent === undefined ? [] : [at - sent];
  });
}

async function jointReadRun(): Promise<{ latencies: number[]; delivered: number; expected: number }> {
  const system = await startConferenceTestSystem({ signalingNodes: 2 });
  const clients: ConferenceClient[] = [];
  try {
    const presenter = await system.connect('tanaka', { node: 0 });
    clients.push(presenter);
    await joinDemo(presenter);
    await request(presenter, 'jointRead:presenter', { action: 'request' });
    await request(presenter, 'jointRead:change', { changes: [{ kind: 'view', view }] });
    const received: { index: number; at: number }[] = [];
    for (let follower = 0; follower < FOLLOWERS; follower += 1) {
      const username = `bench-follower-${follower}`;
      await system.accounts.create({
        username,
        password: `${username}-password`,
        displayName: `読影 ${follower}`,
        siteId: follower % 2 ? 'aoshima' : 'kuroshio',
        roles: ['site-doctor'],
      });
      const client = await system.connect(username, { node: follower % 2 });
      clients.push(client);
      await joinDemo(client);
      client.on('jointRead:update', (update) => {
        const at = performance.now();
        for (const change of update.changes) {
          if (change.kind === 'view-patch' && change.patch.imageIndex !== undefined)
            received.push({ index: change.patch.imageIndex, at });
        }
      });
    }
    const sentAt = await drive((index) => {
      void request(presenter, 'jointRead:change', {
        changes: [{ kind: 'view-patch', patch: { imageIndex: index } }],
      });
    });
    return { latencies: latencies(received, sentAt), delivered: received.length, expected: sentAt.size * FOLLOWERS };
  } finally {
    for (const client of clients) client.close();
    await system.close();
  }
}

/** Two bare Socket.IO servers on one Redis adapter: a sender's event broadcast to a room. */
async function plainBroadcastRun(redisUrl: string): Promise<{ latencies: number[]; delivered: number }> {
  const redisClients: RedisClient[] = [];
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  try {
    const ports: number[] = [];
    for (let node = 0; node < 2; node += 1) {
      const pub = await connectRedis(redisUrl, () => undefined);
      const sub = pub.duplicate();
      await sub.connect();
      redisClients.push(pub, sub);
      const http = createServer();
      const server = new Server(http, { adapter: createAdapter(pub, sub) });
      server.on('connection', (socket) => {
        void socket.join('room');
        socket.on('change', (payload: unknown) => socket.to('room').emit('change', payload));
      });
      servers.push(server);
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      ports.push((http.address() as AddressInfo).port);
    }
    const open = async (node: number) => {
      const socket = connectClient(`http://127.0.0.1:${ports[node]}`, { transports: ['websocket'] });
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      sockets.push(socket);
      return socket;
    };
    const sender = await open(0);
    const received: { index: number; at: number }[] = [];
    for (let follower = 0; follower < FOLLOWERS; follower += 1) {
      const socket = await open(follower % 2);
      socket.on('change', (payload: { imageIndex: number }) =>
        received.push({ index: payload.imageIndex, at: performance.now() }),
      );
    }
    await sleep(500); // every join reached the adapter
    const sentAt = await drive((index) => sender.emit('change', { kind: 'view-patch', patch: {}, imageIndex: index }));
    return { latencies: latencies(received, sentAt), delivered: received.length };
  } finally {
    for (const socket of sockets) socket.close();
    for (const server of servers) await server.close();
    for (const client of redisClients) await client.quit().catch(() => undefined);
  }
}

console.log(`joint read: 1 presenter, ${FOLLOWERS} followers on 2 signaling nodes, ${RATE}/s for ${SECONDS} s …`);
const joint = await jointReadRun();
console.log('plain Socket.IO broadcast through the Redis adapter, same shape …');
const redis = await startTestRedis();
const plain = await plainBroadcastRun(redis.url).finally(() => redis.stop());
const figures = {
  followers: FOLLOWERS,
  updates_per_second: RATE,
  seconds: SECONDS,
  joint_read_p50_ms: round2(percentile(joint.latencies, 50)),
  joint_read_p95_ms: round2(percentile(joint.latencies, 95)),
  joint_read_p99_ms: round2(percentile(joint.latencies, 99)),
  joint_read_delivered_ratio: round2(joint.delivered / joint.expected),
  plain_p50_ms: round2(percentile(plain.latencies, 50)),
  plain_p95_ms: round2(percentile(plain.latencies, 95)),
  plain_p99_ms: round2(percentile(plain.latencies, 99)),
  p50_ratio: round2(percentile(joint.latencies, 50) / percentile(plain.latencies, 50)),
  p95_ratio: round2(percentile(joint.latencies, 95) / percentile(plain.latencies, 95)),
  p99_ratio: round2(percentile(joint.latencies, 99) / percentile(plain.latencies, 99)),
};
console.log(`target: p95 ratio ≤ 1.3 (${figures.p95_ratio})`);
// Part 2, in its own process: presenter action → follower render with three Chromium sites.
const browser =
  process.env.BENCH_SYNC_SKIP_BROWSER === '1' ? {} : await childFigures('bench/sync/browser-render.ts', 'browser');
console.log(JSON.stringify({ ...figures, ...browser }));
