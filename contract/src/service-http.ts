import type { Server } from 'node:http';
import { http } from './node-http.ts';
import type { AddressInfo } from 'node:net';

/**
 * The small HTTP surface every backend service has: `GET /healthz` (200 when healthy, 503 when
 * degraded, with the service's details) and a typed 404 for anything else. Socket.IO attaches
 * to the same server where a service has one.
 */
export function createHealthServer(
  service: string,
  health: () => { healthy: boolean } & Record<string, unknown>,
): Server {
  return http.createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/healthz') {
      const { healthy, ...details } = health();
      response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: healthy ? 'ok' : 'degraded', service, ...details }));
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: { code: 'not_found', message: 'not found' } }));
  });
}

/** Listens and returns the port actually bound (the configured one, or a free one for 0). */
export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Stops the service cleanly on SIGINT/SIGTERM, then exits. */
export function closeOnSignals(close: () => Promise<void>, log: (message: string) => void): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping`);
      void close().finally(() => process.exit(0));
    });
  }
}
