import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { once } from 'node:events';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startEmulatedLink, startImpairmentRelay } from './emulated-link.ts';
import { freeMediaPorts, freeTcpPort } from './free-port.ts';

/** A UDP echo service that also records which peers (address:port) it heard from. */
async function udpEcho(port: number): Promise<{ peers: Set<string>; close(): void }> {
  const socket = createSocket('udp4');
  const peers = new Set<string>();
  socket.on('message', (message, from) => {
    peers.add(`${from.address}:${from.port}`);
    socket.send(message, from.port, from.address);
  });
  socket.bind(port, '127.0.0.1');
  await once(socket, 'listening');
  return { peers, close: () => socket.close() };
}

async function udpClient(): Promise<{ socket: UdpSocket; received: Buffer[] }> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (message) => received.push(message));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, received };
}

describe('emulated link relay', () => {
  it('carries bytes intact both ways over several connections, half-close included', async () => {
    // An echo service that answers once the client has finished sending.
    const echo = createServer({ allowHalfOpen: true }, (socket) => {
      void buffer(socket).then((received) => socket.end(received));
    });
    const echoPort = await freeTcpPort();
    await new Promise<void>((resolve) => echo.listen(echoPort, '127.0.0.1', resolve));
    const link = await startEmulatedLink({
      port: await freeTcpPort(),
      target: { host: '127.0.0.1', port: echoPort },
      profile: { name: 'test', bitsPerSecond: 400e6, roundTripMs: 4 },
    });
    try {
      const payloads = [randomBytes(3 * 1024 * 1024), randomBytes(10), randomBytes(700_000)];
      const echoed = await Promise.all(
        payloads.map((payload) => {
          const socket = connect({ port: link.port, host: link.host, allowHalfOpen: true });
          socket.end(payload);
          return buffer(socket);
        }),
      );
      for (const [index, payload] of payloads.entries()) expect(echoed[index]!.equals(payload)).toBe(true);
    } finally {
      await link.close();
      await new Promise((resolve) => echo.close(resolve));
    }
  });

  it('cuts every connection while down, refuses new ones, and carries them again once restored', async () => {
    const echo = createServer((socket) => socket.pipe(socket));
    const echoPort = await freeTcpPort();
    await new Promise<void>((resolve) => echo.listen(echoPort, '127.0.0.1', resolve));
    const link = await startEmulatedLink({
      port: await freeTcpPort(),
      host: '127.0.0.2',
      target: { host: '127.0.0.1', port: echoPort },
      profile: { name: 'test', bitsPerSecond: 100e6, roundTripMs: 2 },
    });
    const open = () => {
      const socket = connect({ port: link.port, host: link.host });
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('error', () => undefined);
      return { socket, closed };
    };
    const echoOnce = (socket: ReturnType<typeof connect>, text: string) =>
      new Promise<string>((resolve) => {
        socket.once('data', (chunk: Buffer) => resolve(chunk.toString()));
        socket.write(text);
      });
    try {
      const before = open();
      expect(await echoOnce(before.socket, 'ping')).toBe('ping');
      link.cut();
      await before.closed;
      await open().closed;
      link.restore();
      const after = open();
      expect(await echoOnce(after.socket, 'back')).toBe('back');
      after.socket.destroy();
    } finally {
      await link.close();
      await new Promise((resolve) => echo.close(resolve));
    }
  });

  it('gives each UDP client its own upstream peer, drops datagrams while the link is down, and carries them again after', async () => {
    const targetPort = await freeMediaPorts(1);
    const echo = await udpEcho(targetPort);
    const relayPort = await freeMediaPorts(1);
    const relay = await startImpairmentRelay({
      forwards: [{ protocol: 'udp', listenPort: relayPort, target: { host: '127.0.0.1', port: targetPort } }],
      profile: { name: 'test', roundTripMs: 2 },
    });
    const clients = [await udpClient(), await udpClient()];
    try {
      for (const [index, { socket }] of clients.entries()) socket.send(`hello ${index}`, relayPort, '127.0.0.1');
      for (const [index, { received }] of clients.entries()) {
        await expect.poll(() => received.map(String)).toEqual([`hello ${index}`]);
      }
      expect(echo.peers.size).toBe(2);
      expect(relay.stats().udpPeers).toBe(2);

      relay.setLinkDown(true);
      clients[0]!.socket.send('during the outage', relayPort, '127.0.0.1');
      await expect.poll(() => relay.stats().up.dropped['link-down']).toBe(1);
      relay.setLinkDown(false);
      clients[0]!.socket.send('after the outage', relayPort, '127.0.0.1');
      await expect.poll(() => clients[0]!.received.map(String)).toEqual(['hello 0', 'after the outage']);
    } finally {
      for (const { socket } of clients) socket.close();
      await relay.close();
      echo.close();
    }
  });

  it('holds TCP bytes while the link is down and delivers them, in order, once it is back', async () => {
    const received: Buffer[] = [];
    const sink = createServer((socket) => socket.on('data', (chunk: Buffer) => received.push(chunk)));
    const sinkPort = await freeTcpPort();
    await new Promise<void>((resolve) => sink.listen(sinkPort, '127.0.0.1', resolve));
    const relayPort = await freeTcpPort();
    const relay = await startImpairmentRelay({
      forwards: [{ protocol: 'tcp', listenPort: relayPort, target: { host: '127.0.0.1', port: sinkPort } }],
      profile: { name: 'test', roundTripMs: 2 },
    });
    const socket = connect({ port: relayPort, host: '127.0.0.1' });
    try {
      await once(socket, 'connect');
      socket.write('before ');
      await expect.poll(() => Buffer.concat(received).toString()).toBe('before ');
      relay.setLinkDown(true);
      socket.write('during ');
      socket.write('the outage');
      // Nothing crosses a link that is down (the bytes wait in the relay).
      await sleep(300);
      expect(Buffer.concat(received).toString()).toBe('before ');
      relay.setLinkDown(false);
      await expect.poll(() => Buffer.concat(received).toString()).toBe('before during the outage');
    } finally {
      socket.destroy();
      await relay.close();
      await new Promise((resolve) => sink.close(resolve));
    }
  });
});
