import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { http } from '@telemed/contract/node-http';

/**
 * The viewer's images come from the page's own origin: `/dicom-web/...` on the web server is
 * streamed to the DICOM proxy's `/dicom-web/...` as it is (the proxy checks the imaging token in
 * the Authorization header, audits and answers). Same origin keeps the page's CSP at `'self'` and
 * needs no CORS on the proxy; a PACS is never reached from the browser at all.
 *
 * Written here rather than with a proxy library: it is one read-only route (GET and HEAD) whose
 * bodies must stream without buffering, and node:http's pipe does exactly that.
 */

export const dicomWebPathPrefix = '/dicom-web/';

/** Request headers passed on; cookies and everything else stay with the web server. */
const forwardedRequestHeaders = ['accept', 'accept-encoding', 'authorization', 'if-none-match', 'range'];
/** Response headers passed back. */
const forwardedResponseHeaders = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-location',
  'cache-control',
  'etag',
  'warning',
  'retry-after',
];

function typedError(response: ServerResponse, status: number, code: string, message: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ error: { code, message } }));
}

/**
 * Forwards one request under `/dicom-web/` to the proxy at `proxyUrl` (e.g.
 * `http://127.0.0.1:3003`). Resolves when the answer has been sent or the client went away.
 */
export async function forwardDicomWeb(
  request: IncomingMessage,
  response: ServerResponse,
  proxyUrl: URL,
): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    typedError(response, 405, 'method_not_allowed', 'the image routes are read-only');
    return;
  }
  const headers: Record<string, string> = {};
  for (const name of forwardedRequestHeaders) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const target = new URL(request.url ?? '/', proxyUrl);
  const upstream = http.request(target, { method: request.method, headers });
  const abort = () => upstream.destroy();
  response.once('close', abort);
  try {
    const answer = await new Promise<IncomingMessage>((resolve, reject) => {
      upstream.once('response', resolve);
      upstream.once('error', reject);
      upstream.end();
    });
    const passed: Record<string, string | string[]> = {};
    for (const name of forwardedResponseHeaders) {
      const value = answer.headers[name];
      if (value !== undefined) passed[name] = value;
    }
    response.writeHead(answer.statusCode ?? 502, passed);
    await pipeline(answer, response);
  } catch {
    if (!response.writableEnded) typedError(response, 502, 'upstream_unavailable', 'the DICOM proxy did not answer');
  } finally {
    response.off('close', abort);
  }
}
