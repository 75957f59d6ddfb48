import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dcmtkEnvironment, startTestDcmqrscp, type PrivateDcmqrscp } from './private-dcmqrscp.ts';

const testFiles = '/usr/lib/python3/dist-packages/pydicom/data/test_files';

function findscu(archive: PrivateDcmqrscp, keys: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const args = ['-S', '-aec', archive.aet, '-k', 'QueryRetrieveLevel=STUDY', ...keys.flatMap((k) => ['-k', k])];
    const child = spawn('findscu', [...args, archive.host, String(archive.port)], { env: dcmtkEnvironment });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe('private dcmqrscp', () => {
  let archive: PrivateDcmqrscp;
  beforeAll(async () => {
    archive = await startTestDcmqrscp({ peers: [{ aet: 'PROXY_STORE', host: '127.0.0.1', port: 4242 }] });
  });
  afterAll(async () => archive?.stop());

  it('answers C-FIND for what was loaded', async () => {
    await archive.load([`${testFiles}/CT_small.dcm`, `${testFiles}/MR_small.dcm`]);
    const { code, output } = await findscu(archive, ['StudyInstanceUID', 'PatientID']);
    expect(code).toBe(0);
    expect(output).toContain('1.3.6.1.4.1.5962.1.2.1.20040119072730.12322');
  });

  it('rejects a load it cannot store', async () => {
    await expect(archive.load(['/etc/hostname'])).rejects.toThrow(/storescu/);
  });
});
