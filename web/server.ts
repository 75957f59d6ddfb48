import { createServer, type RequestListener } from 'node:http';
import { z } from 'zod';
import { portSetting, readEnvConfig } from '@telemed/contract/server';

/**
 * The web service's entry point: SvelteKit's production handler (adapter-node) on plain HTTP.
 *
 * adapter-node takes the request's protocol from PROTOCOL_HEADER and otherwise assumes https,
 * which would make SvelteKit's CSRF check refuse every form post reaching this server directly
 * over http (a localhost demo, a hospital LAN). A TLS-terminating proxy in front sets
 * X-Forwarded-Proto itself; for direct connections this server says "http".
 */
const settings = readEnvConfig('web', z.object({ HOST: z.string().default('0.0.0.0'), PORT: portSetting(3000) }));
process.env.PROTOCOL_HEADER = 'x-forwarded-proto';

const handlerModule = new URL('./build/handler.js', import.meta.url).href;
const { handler } = (await import(handlerModule)) as { handler: RequestListener };

const server = createServer((request, response) => {
  request.headers['x-forwarded-proto'] ??= 'http';
  handler(request, response);
});
server.listen(settings.PORT, settings.HOST, () => {
  console.log(
    JSON.stringify({
      level: 30,
      time: Date.now(),
      name: 'web',
      msg: `web listening on ${settings.HOST}:${settings.PORT}`,
    }),
  );
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
