import { pino } from 'pino';
import { readDicomProxyConfig } from './config.ts';
import { startDicomProxyService } from './dicom-proxy-service.ts';

const config = readDicomProxyConfig();
const logger = pino({ name: 'dicom-proxy', level: config.LOG_LEVEL });

const service = await startDicomProxyService(config, logger);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void service.close().finally(() => process.exit(0)));
}
