import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** A TCP port nobody listens on right now (the OS picks it). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '0.0.0.0', () => socket.close(() => resolve(true)));
  });
}

/** `count` consecutive ports free for both TCP and UDP (media ports of the SFU's workers). */
export async function freeMediaPorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 20000);
    let allFree = true;
    for (let port = base; port < base + count && allFree; port++) {
      allFree = (await udpPortFree(port)) && (await tcpPortFree(port));
    }
    if (allFree) return base;
  }
  throw new Error('no free media ports found');
}

function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}
