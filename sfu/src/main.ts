import { pino } from 'pino';
import { readSfuConfig } from './config.ts';
import { startSfuService } from './sfu-service.ts';

const config = readSfuConfig();
const logger = pino({ name: 'sfu', level: config.LOG_LEVEL });

process.on('unhandledRejection', (error) => logger.error({ err: error }, 'unhandled rejection'));

const service = await startSfuService(config, logger);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'sfu stopping');
    void service.close().finally(() => process.exit(0));
  });
}
