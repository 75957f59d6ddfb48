import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../stack/stack.ts';

const run = promisify(execFile);

describe('docker/compose.yaml', () => {
  it('is a valid compose file that runs every service from the one image', async () => {
    // No Docker engine is needed to validate: `config` only parses and resolves the file.
    const { stdout } = await run('docker-compose', ['-f', join(projectRoot, 'docker/compose.yaml'), 'config'], {
      env: {
        ...process.env,
        AUTH_SECRET: 'a'.repeat(32),
        SFU_RPC_SECRET: 'b'.repeat(32),
        PUBLIC_ADDRESS: '192.0.2.10',
        TURN_SECRET: 'c'.repeat(24),
      },
    });
    for (const command of ['sfu/src/main.ts', 'signaling/src/main.ts', 'dicom-proxy/src/main.ts', 'web/server.ts']) {
      expect(stdout).toContain(command);
    }
    expect(stdout).toContain('SFU_ANNOUNCED_ADDRESS: 192.0.2.10');
    // coturn with the TURN REST API secret signaling mints credentials from, TLS on 443.
    expect(stdout).toContain('image: coturn/coturn:4.6');
    expect(stdout).toContain(`--static-auth-secret=${'c'.repeat(24)}`);
    expect(stdout).toContain(`TURN_SECRET: ${'c'.repeat(24)}`);
    expect(stdout).toContain('turns:192.0.2.10:443?transport=tcp');
  });

  it('refuses to start without the secrets and the public address', async () => {
    const env = { ...process.env };
    delete env.AUTH_SECRET;
    await expect(
      run('docker-compose', ['-f', join(projectRoot, 'docker/compose.yaml'), 'config'], { env }),
    ).rejects.toThrow(/AUTH_SECRET|PUBLIC_ADDRESS/);
  });
});
