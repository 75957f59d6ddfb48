import { z } from 'zod';
import { logLevelSetting, portSetting, readEnvConfig } from '@telemed/contract/server';

const dicomProxyConfigSchema = z.object({
  DICOM_PROXY_HOST: z.string().default('127.0.0.1'),
  DICOM_PROXY_PORT: portSetting(3003),
  LOG_LEVEL: logLevelSetting,
});

export type DicomProxyConfig = z.infer<typeof dicomProxyConfigSchema>;

export function readDicomProxyConfig(env?: Record<string, string | undefined>): DicomProxyConfig {
  return readEnvConfig('dicom-proxy', dicomProxyConfigSchema, env);
}
