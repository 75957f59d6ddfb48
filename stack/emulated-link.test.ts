import { randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { LinkDirectionSchedule, startEmulatedLink } from './emulated-link.ts';
import { freeTcpPort } from './free-port.ts';

describe('emulated link', () => {
  it('serialises chunks at the link rate, then adds the one-way delay', () => {
    // 8 Mbit/s: one byte takes 1 µs on the line; 40 ms round trip: 20 ms each way.
    const schedule = new LinkDirectionSchedule({ name: 't', bitsPerSecond: 8e6, roundTripMs: 40 });
    expect(schedule.arrival(0, 1_000)).toBeCloseTo(1 + 20);
    // Sent while the line is still busy: it waits for the first chunk to be on the wire.
    expect(schedule.arrival(0.5, 1_000)).toBeCloseTo(2 + 20);
    // Sent after the line went idle: it starts at once.
    expect(schedule.arrival(100, 500)).toBeCloseTo(100.5 + 20);
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
});
