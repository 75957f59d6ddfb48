import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeMediaPorts } from './free-port.ts';
import { startPrivateCoturn, startTestCoturn, type PrivateCoturn } from './private-coturn.ts';

describe('private coturn', () => {
  let coturn: PrivateCoturn;
  beforeAll(async () => {
    coturn = await startTestCoturn();
  });
  afterAll(async () => {
    await coturn?.stop();
  });

  it('offers TURN over UDP and TCP on one port and over TLS on another, on loopback', () => {
    expect(coturn.host).toBe('127.0.0.1');
    expect(coturn.urls).toEqual([
      `turn:127.0.0.1:${coturn.port}?transport=udp`,
      `turn:127.0.0.1:${coturn.port}?transport=tcp`,
      `turns:127.0.0.1:${coturn.tlsPort}?transport=tcp`,
    ]);
  });

  it('accepts TCP on the TURN port', async () => {
    await new Promise<void>((resolve, reject) => {
      const socket = createConnection({ host: coturn.host, port: coturn.port }, () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', reject);
    });
  });

  it('speaks TLS with the self-signed certificate it made', async () => {
    const peerCertificate = await new Promise<{ subject: { CN?: string } }>((resolve, reject) => {
      const socket = tlsConnect({ host: coturn.host, port: coturn.tlsPort, rejectUnauthorized: false }, () => {
        const certificate = socket.getPeerCertificate();
        socket.destroy();
        resolve(certificate as { subject: { CN?: string } });
      });
      socket.once('error', reject);
    });
    expect(peerCertificate.subject.CN).toBe(coturn.realm);
  });

  it('names its self-signed certificate by its public key, for test browsers to pin', () => {
    expect(coturn.selfSignedCertificate).toBe(true);
    expect(Buffer.from(coturn.certificateSpki, 'base64')).toHaveLength(32);
  });

  it('logs to its own file, not to the launcher, and never the shared secret', async () => {
    const log = await readFile(coturn.logFile, 'utf8');
    expect(log).toContain('Relay address to use: 127.0.0.1');
    expect(log).not.toContain(coturn.secret);
  });
});

describe('private coturn behind another address', () => {
  it('names the address browsers reach it at in its URLs, and a given TLS port', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'telemed-coturn-'));
    const [port, tlsPort] = [await freeMediaPorts(1), await freeMediaPorts(1)];
    const coturn = await startPrivateCoturn({
      dir,
      port,
      tlsPort,
      secret: 'behind-another-address-secret',
      externalAddress: '192.0.2.10',
    });
    try {
      expect(coturn.urls).toEqual([
        `turn:192.0.2.10:${port}?transport=udp`,
        `turn:192.0.2.10:${port}?transport=tcp`,
        `turns:192.0.2.10:${tlsPort}?transport=tcp`,
      ]);
    } finally {
      await coturn.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
