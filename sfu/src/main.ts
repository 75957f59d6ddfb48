import { pino } from 'pino';
import { closeOnSignals } from '@telemed/contract/server';
import { readSfuConfig } from './config.ts';
import { startSfuService } from './sfu-service.ts';

const config = readSfuConfig();
const logger = pino({ name: 'sfu', level: config.LOG_LEVEL });
process.on('unhandledRejection', (error) => logger.error({ err: error }, 'unhandled rejection'));

const service = await startSfuService(config, logger);
closeOnSignals(service.close, (message) => logger.info(message));
