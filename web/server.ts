import { createServer, type RequestListener } from 'node:http';
import { pino } from 'pino';
import { z } from 'zod';
import { closeOnSignals, listen, portSetting, readEnvConfig } from '@telemed/contract/server';
import { dicomWebPathPrefix, forwardDicomWeb } from './src/lib/server/dicom-web-forwarding.ts';

/**
 * The web service's entry point: SvelteKit's production handler (adapter-node) on plain HTTP.
 *
 * adapter-node takes the request's protocol from PROTOCOL_HEADER and otherwise assumes https,
 * which would make SvelteKit's CSRF check refuse every form post reaching this server directly
 * over http (a localhost demo, a hospital LAN). A TLS-terminating proxy in front sets
 * X-Forwarded-Proto itself; for direct connections this server says "http".
 *
 * `/dicom-web/...` is streamed to the DICOM proxy (DICOM_PROXY_URL), so the viewer's images come
 * from the page's own origin.
 */
const settings = readEnvConfig(
  'web',
  z.object({
    HOST: z.string().default('0.0.0.0'),
    PORT: portSetting(3000),
    DICOM_PROXY_URL: z.url({ protocol: /^http$/ }).default('http://127.0.0.1:3003'),
  }),
);
const dicomProxyUrl = new URL(settings.DICOM_PROXY_URL);
process.env.PROTOCOL_HEADER = 'x-forwarded-proto';

const handlerModule = new URL('./build/handler.js', import.meta.url).href;
const { handler } = (await import(handlerModule)) as { handler: RequestListener };

const server = createServer((request, response) => {
  if (request.url?.startsWith(dicomWebPathPrefix)) {
    void forwardDicomWeb(request, response, dicomProxyUrl);
    return;
  }
  request.headers['x-forwarded-proto'] ??= 'http';
  handler(request, response);
});
const logger = pino({ name: 'web', level: process.env.LOG_LEVEL ?? 'info' });
const port = await listen(server, settings.PORT, settings.HOST);
logger.info({ port }, 'web listening');
closeOnSignals(
  async () => {
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await closed;
  },
  (message) => logger.info(message),
);
