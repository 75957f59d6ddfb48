import type { Logger } from 'pino';
import { createHealthServer, listen } from '@telemed/contract/server';
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
  const server = createHealthServer('dicom-proxy', () => ({ healthy: true }));
  const port = await listen(server, config.DICOM_PROXY_PORT, config.DICOM_PROXY_HOST);
  logger.info({ port }, 'dicom-proxy listening');
  return {
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
