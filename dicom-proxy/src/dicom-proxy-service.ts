import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { DicomProxyConfig } from './config.ts';

export interface DicomProxyService {
  port: number;
  close(): Promise<void>;
}

/**
 * The only door to hospital PACS images. For now it answers `/healthz`; DICOMweb comes with
 * the DICOM-proxy issue.
 */
export async function startDicomProxyService(config: DicomProxyConfig, logger: Logger): Promise<DicomProxyService> {
  const server = createServer((request, response) => {
    const healthy = request.method === 'GET' && request.url === '/healthz';
    response.writeHead(healthy ? 200 : 404, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify(
        healthy ? { status: 'ok', service: 'dicom-proxy' } : { error: { code: 'not_found', message: 'not found' } },
      ),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.DICOM_PROXY_PORT, config.DICOM_PROXY_HOST, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port }, 'dicom-proxy listening');
  return {
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
