import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dicomWebPathPrefix, forwardDicomWeb } from './dicom-web-forwarding.ts';

// The forwarding alone, between two plain HTTP servers: the real proxy behind it is covered by
// the joint-read browser test.
async function listening(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('forwardDicomWeb', () => {
  let seen: { url: string | undefined; headers: IncomingHttpHeaders } | undefined;
  const upstream = createServer((request, response) => {
    seen = { url: request.url, headers: request.headers };
    response.writeHead(200, { 'content-type': 'application/dicom+json', 'set-cookie': 'x=1', 'x-internal': 'no' });
    // Two writes: the body streams through rather than arriving whole.
    response.write('[{"0020000D":');
    setTimeout(() => response.end('{"vr":"UI","Value":["1.2.3"]}}]'), 20);
  });
  let upstreamUrl: string;
  let front: Server;
  let frontUrl: string;
  let target: URL;

  beforeAll(async () => {
    upstreamUrl = await listening(upstream);
    target = new URL(upstreamUrl);
    front = createServer((request, response) => {
      if (request.url?.startsWith(dicomWebPathPrefix)) void forwardDicomWeb(request, response, target);
      else response.end('app');
    });
    frontUrl = await listening(front);
  });
  afterAll(() => {
    front.close();
    upstream.close();
  });

  it('streams the answer and passes only the image headers both ways', async () => {
    const response = await fetch(`${frontUrl}/dicom-web/studies?PatientName=%E5%B1%B1*`, {
      headers: { authorization: 'Bearer t', accept: 'application/dicom+json', cookie: 'telemed_session=secret' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/dicom+json');
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(response.headers.get('x-internal')).toBeNull();
    expect(await response.json()).toEqual([{ '0020000D': { vr: 'UI', Value: ['1.2.3'] } }]);
    expect(seen?.url).toBe('/dicom-web/studies?PatientName=%E5%B1%B1*');
    expect(seen?.headers.authorization).toBe('Bearer t');
    expect(seen?.headers.cookie).toBeUndefined();
  });

  it('refuses writes with a typed 405', async () => {
    const response = await fetch(`${frontUrl}/dicom-web/studies`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
  });

  it('answers a typed 502 when the proxy is down', async () => {
    const down = createServer();
    const downUrl = new URL(await listening(down));
    await new Promise((resolve) => down.close(resolve));
    target = downUrl;
    try {
      const response = await fetch(`${frontUrl}/dicom-web/studies`);
      expect(response.status).toBe(502);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('upstream_unavailable');
    } finally {
      target = new URL(upstreamUrl);
    }
  });
});
