import { pino } from 'pino';
import { readSignalingConfig } from './config.ts';
import { startSignalingService } from './signaling-service.ts';

const config = readSignalingConfig();
const logger = pino({ name: 'signaling', level: config.LOG_LEVEL });

process.on('unhandledRejection', (error) => logger.error({ err: error }, 'unhandled rejection'));

const service = await startSignalingService(config, logger);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'signaling stopping');
    void service.close().finally(() => process.exit(0));
  });
}
