// The client alone: the `redis` package also loads the Bloom, JSON, Search and TimeSeries
// modules (~170 more modules) that no service here uses.
import { createClient, type RedisClientType } from '@redis/client';

export type RedisClient = RedisClientType;

/**
 * Connects to Redis and keeps reconnecting with capped backoff while the server is away, so a
 * Redis restart never takes a service down; commands issued meanwhile fail fast.
 */
export async function connectRedis(url: string, onError: (error: Error) => void): Promise<RedisClient> {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 3000) },
  });
  client.on('error', onError);
  await client.connect();
  return client;
}
