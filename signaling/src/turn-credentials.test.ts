import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeMediaPorts } from '../../stack/free-port.ts';
import { startTestCoturn, type PrivateCoturn } from '../../stack/private-coturn.ts';
import {
  mintTurnCredentials,
  tlsOnly,
  turnCredentialFor,
  turnIceServers,
  turnUserId,
  type TurnCredentials,
} from './turn-credentials.ts';

const ACCOUNT = '6f1c1f9e-2a4b-4c47-9d3e-0d8b1a2c3d4e';
const SESSION = '0b9e3a52-7f41-4e0a-8d2c-5a6b7c8d9e0f';

describe('TURN REST API credentials', () => {
  it('sign `<expiry>:<user id>` with HMAC-SHA1 of the shared secret, base64', () => {
    // Reference value from `printf %s "$username" | openssl dgst -sha1 -hmac sekrit -binary | base64`.
    expect(turnCredentialFor('sekrit', '1796546620:acc.session.s1')).toBe('vzQQToPkytvpZI8qzToMWtXE2qI=');
  });

  it('expire after the configured lifetime', () => {
    const now = new Date('2026-12-06T09:00:00Z');
    const credentials = mintTurnCredentials({ secret: 's', lifetimeSeconds: 3600 }, 'someone', now);
    expect(credentials.expiresAt).toBe(now.getTime() / 1000 + 3600);
    expect(credentials.username).toBe(`${credentials.expiresAt}:someone`);
    expect(credentials.credential).toBe(turnCredentialFor('s', credentials.username));
  });

  it('name the account and the session, or the pre-call probe', () => {
    expect(turnUserId(ACCOUNT, { sessionId: SESSION })).toBe(`${ACCOUNT}.session.${SESSION}`);
    expect(turnUserId(ACCOUNT, { probe: true })).toBe(`${ACCOUNT}.probe`);
  });

  it('give every TURN URL one credential, and the TLS-only subset for a relay-only path', () => {
    const { iceServers, credentials } = turnIceServers(
      { urls: ['turn:h:3478?transport=udp', 'turns:h:443?transport=tcp'], secret: 's', lifetimeSeconds: 60 },
      ACCOUNT,
      { sessionId: SESSION },
    );
    expect(iceServers).toEqual([
      {
        urls: ['turn:h:3478?transport=udp', 'turns:h:443?transport=tcp'],
        username: credentials.username,
        credential: credentials.credential,
      },
    ]);
    expect(tlsOnly(iceServers)).toEqual([{ ...iceServers[0], urls: ['turns:h:443?transport=tcp'] }]);
  });
});

/**
 * Against the real coturn: `turnutils_uclient` (from the coturn package) allocates a relay with
 * the credential and sends a message through it to `turnutils_peer`, an echo peer; it exits 0
 * when that worked and non-zero when the allocation was refused.
 */
describe('TURN REST API credentials at a real coturn', () => {
  let coturn: PrivateCoturn;
  let peer: ChildProcess;
  let peerPort: number;
  beforeAll(async () => {
    coturn = await startTestCoturn();
    peerPort = await freeMediaPorts(1);
    peer = spawn('turnutils_peer', ['-L', '127.0.0.1', '-p', String(peerPort)], { stdio: 'ignore' });
  });
  afterAll(async () => {
    peer?.kill('SIGTERM');
    await coturn?.stop();
  });

  function allocate(credentials: Pick<TurnCredentials, 'username' | 'credential'>, tcp = false): Promise<number> {
    const args = [
      ...(tcp ? ['-t'] : []),
      ...['-n', '1', '-m', '1', '-u', credentials.username, '-w', credentials.credential],
      ...['-p', String(coturn.port), '-e', '127.0.0.1', '-r', String(peerPort), coturn.host],
    ];
    return new Promise((resolve) => {
      const child = execFile('turnutils_uclient', args, { timeout: 20_000 }, () => resolve(child.exitCode ?? -1));
    });
  }

  const settings = () => ({ secret: coturn.secret, lifetimeSeconds: 3600 });

  // Over TLS too, but uclient's TLS client does not finish a handshake with a coturn that allows
  // TLS 1.2+ only (as browsers need): the relay-only call e2e proves `turns:` with Chromium.
  it('relay with a fresh credential, over UDP and over TCP', async () => {
    const credentials = mintTurnCredentials(settings(), turnUserId(ACCOUNT, { sessionId: SESSION }));
    expect(await allocate(credentials)).toBe(0);
    expect(await allocate(credentials, true)).toBe(0);
  });

  it('refuse a credential signed with another secret', async () => {
    const credentials = mintTurnCredentials({ secret: 'not-the-secret', lifetimeSeconds: 3600 }, 'intruder');
    expect(await allocate(credentials)).not.toBe(0);
  });

  it('refuse an expired credential', async () => {
    const anHourAgo = new Date(Date.now() - 3_600_000);
    const credentials = mintTurnCredentials({ ...settings(), lifetimeSeconds: 60 }, 'late', anHourAgo);
    expect(await allocate(credentials)).not.toBe(0);
  });
});
