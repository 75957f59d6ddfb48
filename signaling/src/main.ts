import { pino } from 'pino';
import { closeOnSignals } from '@telemed/contract/server';
import { readSignalingConfig } from './config.ts';
import { startSignalingService } from './signaling-service.ts';

const config = readSignalingConfig();
const logger = pino({ name: 'signaling', level: config.LOG_LEVEL });
process.on('unhandledRejection', (error) => logger.error({ err: error }, 'unhandled rejection'));

const service = await startSignalingService(config, logger);
closeOnSignals(service.close, (message) => logger.info(message));
