import { join } from 'node:path';
import { z } from 'zod';
import { readEnvConfig, flagSetting } from '@telemed/contract/server';
import { demoAccounts } from '@telemed/domain';
import { defaultPorts, launchStack, projectRoot } from './stack.ts';

/**
 * `npm start`: the whole system on this machine, http://localhost:3000. Without REDIS_URL a
 * private redis-server keeps its data under ./data/redis, and without DICOM_SOURCES a private
 * Orthanc holds the demo study under ./data/orthanc, and without TURN_URLS a private coturn relays
 * media for browsers behind strict firewalls (TLS on 443 when this user may bind it); all stop
 * with everything else.
 */
const settings = readEnvConfig(
  'start',
  z.object({
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    DATA_DIR: z.string().default(join(projectRoot, 'data')),
    SEED_DEMO: flagSetting(true),
    SFU_WORKERS: z.coerce.number().int().positive().optional(),
    /** The hospital PACS to read (JSON, see the README); without it a private demo Orthanc runs. */
    DICOM_SOURCES: z.string().min(2).optional(),
    /** An existing TURN server (comma-separated turn:/turns: URLs) and its TURN REST API secret. */
    TURN_URLS: z.string().min(5).optional(),
    TURN_SECRET: z.string().min(16).optional(),
    /** The private coturn's TLS certificate and key (PEM files); self-signed when absent. */
    TURN_TLS_CERT: z.string().min(1).optional(),
    TURN_TLS_KEY: z.string().min(1).optional(),
  }),
);
if (Boolean(settings.TURN_URLS) !== Boolean(settings.TURN_SECRET)) {
  throw new Error('start: TURN_URLS and TURN_SECRET go together (set both, or neither for a private coturn)');
}

const stack = await launchStack({
  ports: defaultPorts,
  ...(settings.REDIS_URL ? { redisUrl: settings.REDIS_URL } : {}),
  dataDir: settings.DATA_DIR,
  persistent: true,
  seedDemo: settings.SEED_DEMO,
  ...(settings.SFU_WORKERS ? { sfuWorkers: settings.SFU_WORKERS } : {}),
  ...(settings.DICOM_SOURCES ? { dicomSources: settings.DICOM_SOURCES } : {}),
  ...(settings.TURN_URLS && settings.TURN_SECRET
    ? { turn: { urls: settings.TURN_URLS.split(',').map((url) => url.trim()), secret: settings.TURN_SECRET } }
    : {}),
  ...(settings.TURN_TLS_CERT && settings.TURN_TLS_KEY
    ? { turnCertificate: { cert: settings.TURN_TLS_CERT, key: settings.TURN_TLS_KEY } }
    : {}),
  logs: 'stdout',
});

console.log(`\n  Ready: ${stack.webUrl}\n`);
if (settings.SEED_DEMO) {
  console.log('  Demo accounts (username / password):');
  for (const account of demoAccounts) {
    console.log(`    ${account.username.padEnd(10)} ${account.password.padEnd(20)} ${account.roles.join(', ')}`);
  }
  console.log('');
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('\n  Stopping…');
    void stack.stop().finally(() => process.exit(0));
  });
}
