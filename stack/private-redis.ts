import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { tieToLauncher } from './child-lifetime.ts';
import { freeTcpPort } from './free-port.ts';

export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A redis-server of the project's own, on loopback only, with its data (append-only file on)
 * under `dir`. Used when no REDIS_URL is configured, and by every test.
 */
export async function startPrivateRedis(options: {
  dir: string;
  port: number;
  persistent: boolean;
}): Promise<PrivateRedis> {
  await mkdir(options.dir, { recursive: true });
  const args = [
    '--port',
    String(options.port),
    '--bind',
    '127.0.0.1',
    '--protected-mode',
    'yes',
    '--dir',
    options.dir,
    '--daemonize',
    'no',
    '--save',
    '',
    '--appendonly',
    options.persistent ? 'yes' : 'no',
    '--appendfsync',
    'everysec',
    '--loglevel',
    'warning',
  ];
  const child = spawn('redis-server', args, { stdio: 'ignore', detached: true });
  tieToLauncher(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.once('error', () => undefined);
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) break;
    if (await answersPing(options.port)) {
      return {
        url: `redis://127.0.0.1:${options.port}`,
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      };
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not start on port ${options.port} (is it installed, is the port free?)`);
}

/** A throwaway private Redis on a free port, for a test file; `stop` removes its data. */
export async function startTestRedis(): Promise<PrivateRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'telemed-redis-'));
  const redis = await startPrivateRedis({ dir, port: await freeTcpPort(), persistent: false });
  return {
    url: redis.url,
    async stop() {
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
