import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/**
 * Free ports for test stacks, taken from 20000–32767: below Linux's ephemeral range (32768+), so
 * an outgoing connection made between picking a port and a service binding it (Redis clients,
 * Orthanc, browsers…) cannot take it meanwhile. Ports handed out stay reserved for this process.
 */
const FIRST = 20000;
const LAST = 32767;
const handedOut = new Set<number>();

function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '0.0.0.0', () => socket.close(() => resolve(true)));
  });
}

function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/** `count` consecutive ports free for TCP (and UDP when `udp`), not handed out before. */
async function freePorts(count: number, udp: boolean): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = FIRST + Math.floor(Math.random() * (LAST - FIRST - count));
    let allFree = true;
    for (let port = base; port < base + count && allFree; port++) {
      allFree = !handedOut.has(port) && (await tcpPortFree(port)) && (!udp || (await udpPortFree(port)));
    }
    if (allFree) {
      for (let port = base; port < base + count; port++) handedOut.add(port);
      return base;
    }
  }
  throw new Error('no free ports found');
}

/** A TCP port nobody listens on right now. */
export function freeTcpPort(): Promise<number> {
  return freePorts(1, false);
}

/** `count` consecutive ports free for both TCP and UDP (media ports of the SFU's workers). */
export function freeMediaPorts(count: number): Promise<number> {
  return freePorts(count, true);
}
