import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeMediaPorts } from './free-port.ts';
import { islandLinkProfiles } from './island-link-profiles.ts';
import { createLinkLab, linkLabUnavailable, type LinkLab } from './link-lab.ts';

const run = promisify(execFile);
const unavailable = await linkLabUnavailable();
if (unavailable) console.warn(`link lab tests skipped: ${unavailable}`);

/**
 * From inside the lab: sends "ping" to 127.0.0.1:port over TCP and UDP and prints what came
 * back (or `timeout`), the way the site's browser reaches the servers.
 */
const probeScript = `
const net = require('node:net'), dgram = require('node:dgram');
const port = Number(process.argv[1]);
const tcp = new Promise((resolve) => {
  const socket = net.connect(port, '127.0.0.1', () => socket.write('ping'));
  socket.on('data', (data) => { resolve(String(data)); socket.destroy(); });
  socket.on('error', () => resolve('error'));
  setTimeout(() => { resolve('timeout'); socket.destroy(); }, 1500);
});
const udp = new Promise((resolve) => {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (data) => { resolve(String(data)); socket.close(); });
  socket.send('ping', port, '127.0.0.1', () => undefined);
  setTimeout(() => { resolve('timeout'); try { socket.close(); } catch {} }, 1500);
});
Promise.all([tcp, udp]).then(([t, u]) => console.log(JSON.stringify({ tcp: t, udp: u })));
`;

describe.skipIf(unavailable !== null)('the link lab', () => {
  let lab: LinkLab;
  let port = 0;
  const closers: (() => void)[] = [];

  beforeAll(async () => {
    lab = await createLinkLab({ chromium: '/usr/bin/chromium' });
    port = await freeMediaPorts(1);
    // An echo service on the servers' side of the veth, TCP and UDP on the same port.
    const tcp = createServer((socket) => socket.on('data', (data) => socket.write(`pong ${String(data)}`)));
    tcp.listen(port, lab.serverAddress);
    await once(tcp, 'listening');
    const udp = createSocket('udp4');
    udp.on('message', (data, from) => udp.send(`pong ${String(data)}`, from.port, from.address));
    udp.bind(port, lab.serverAddress);
    await once(udp, 'listening');
    closers.push(
      () => tcp.close(),
      () => udp.close(),
    );
    await lab.startRelay(
      [
        { protocol: 'tcp', listenPort: port, target: { host: lab.serverAddress, port } },
        { protocol: 'udp', listenPort: port, target: { host: lab.serverAddress, port } },
      ],
      islandLinkProfiles.unshaped.link,
    );
  });

  afterAll(async () => {
    await lab?.close();
    for (const close of closers) close();
  });

  const probe = async () => {
    const { stdout } = await run('ip', [
      'netns',
      'exec',
      lab.namespace,
      process.execPath,
      '-e',
      probeScript,
      String(port),
    ]);
    return JSON.parse(stdout) as { tcp: string; udp: string };
  };

  it('reaches the servers through the relay at the same port on the lab’s 127.0.0.1, TCP and UDP', async () => {
    expect(await probe()).toEqual({ tcp: 'pong ping', udp: 'pong ping' });
    const stats = await lab.stats();
    expect(stats.up.packets).toBeGreaterThanOrEqual(2);
    expect(stats.udpPeers).toBe(1);
  });

  it('drops UDP and TCP to other ports than 443 and the front ports behind a TCP-443-only firewall', async () => {
    await lab.applyProfile(islandLinkProfiles.tcp443Only, [port]);
    expect(await probe()).toEqual({ tcp: 'pong ping', udp: 'timeout' });
    await lab.applyProfile(islandLinkProfiles.tcp443Only, []);
    expect(await probe()).toEqual({ tcp: 'timeout', udp: 'timeout' });
    await lab.applyProfile(islandLinkProfiles.unshaped, []);
    expect(await probe()).toEqual({ tcp: 'pong ping', udp: 'pong ping' });
  });

  it('drops only UDP behind a UDP-blocking firewall', async () => {
    await lab.applyProfile(islandLinkProfiles.udpBlocked, []);
    expect(await probe()).toEqual({ tcp: 'pong ping', udp: 'timeout' });
    await lab.applyProfile(islandLinkProfiles.unshaped, []);
    expect(await probe()).toEqual({ tcp: 'pong ping', udp: 'pong ping' });
  });

  it('cuts the link and restores it', async () => {
    await lab.setLinkDown(true);
    expect((await probe()).udp).toBe('timeout');
    expect((await lab.stats()).linkDown).toBe(true);
    await lab.setLinkDown(false);
    expect(await probe()).toEqual({ tcp: 'pong ping', udp: 'pong ping' });
  });

  it('removes its namespace and veth pair when closed', async () => {
    const namespace = lab.namespace;
    await lab.close();
    const { stdout } = await run('ip', ['netns', 'list']);
    expect(stdout).not.toContain(namespace);
  });
});
