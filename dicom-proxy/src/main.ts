import { pino } from 'pino';
import { closeOnSignals } from '@telemed/contract/server';
import { readDicomProxyConfig } from './config.ts';
import { startDicomProxyService } from './dicom-proxy-service.ts';

const config = readDicomProxyConfig();
const logger = pino({ name: 'dicom-proxy', level: config.LOG_LEVEL });
process.on('unhandledRejection', (error) => logger.error({ err: error }, 'unhandled rejection'));

const service = await startDicomProxyService(config, logger);
closeOnSignals(service.close, (message) => logger.info(message));
