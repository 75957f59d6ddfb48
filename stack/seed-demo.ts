import { pino } from 'pino';
import { z } from 'zod';
import { readEnvConfig } from '@telemed/contract/server';
import { connectRedis, seedDemo } from '@telemed/domain';

/**
 * `npm run seed:demo`: adds the demo sites, accounts and session to the Redis at REDIS_URL
 * (only what is missing; stored records are never overwritten).
 */
const { REDIS_URL } = readEnvConfig('seed-demo', z.object({ REDIS_URL: z.url({ protocol: /^rediss?$/ }) }));
const logger = pino({ name: 'seed-demo' });
const redis = await connectRedis(REDIS_URL, (error) => logger.error({ err: error }, 'redis error'));
await seedDemo(redis, logger);
await redis.close();
logger.info('demo data in place');
