import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AccessTokenError, mintAccessToken, verifyAccessToken } from './access-token.ts';

const secret = 'a-test-secret-that-is-long-enough-000';
const claims = { sub: 'account-1', name: '佐藤 花子', siteId: 'aoshima', roles: ['site-doctor'] };

describe('access tokens', () => {
  it('round-trips the claims for the intended audience', async () => {
    const token = await mintAccessToken(claims, { secret, audience: 'signaling', ttlSeconds: 60 });
    const verified = await verifyAccessToken(token, { secret, audience: 'signaling' });
    expect(verified).toMatchObject(claims);
    expect(verified.exp).toBeGreaterThan(Date.now() / 1000);
  });

  it('refuses a token for another service', async () => {
    const token = await mintAccessToken(claims, { secret, audience: 'dicom-proxy', ttlSeconds: 60 });
    await expect(verifyAccessToken(token, { secret, audience: 'signaling' })).rejects.toThrow('access token invalid');
  });

  it('refuses an expired token', async () => {
    const token = await mintAccessToken(claims, { secret, audience: 'signaling', ttlSeconds: -5 });
    await expect(verifyAccessToken(token, { secret, audience: 'signaling' })).rejects.toThrow('access token expired');
  });

  it('refuses a token signed with another secret, a tampered one, and garbage', async () => {
    const other = await mintAccessToken(claims, { secret: `${secret}-other`, audience: 'signaling', ttlSeconds: 60 });
    const good = await mintAccessToken(claims, { secret, audience: 'signaling', ttlSeconds: 60 });
    const [header, , signature] = good.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url');
    for (const token of [
      other,
      `${header}.${forgedPayload}.${signature}`,
      'not-a-token',
      '',
      undefined,
      42,
      'x'.repeat(5000),
    ]) {
      await expect(verifyAccessToken(token, { secret, audience: 'signaling' })).rejects.toBeInstanceOf(
        AccessTokenError,
      );
    }
  });

  it('refuses unsigned tokens (alg none)', async () => {
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ ...claims, aud: 'signaling', iss: 'telemed-web', exp: 9999999999 }),
    ).toString('base64url')}.`;
    await expect(verifyAccessToken(unsigned, { secret, audience: 'signaling' })).rejects.toBeInstanceOf(
      AccessTokenError,
    );
  });

  it('refuses a validly signed token whose claims do not fit the schema', async () => {
    const token = await new SignJWT({ name: '', siteId: 'x', roles: [] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('a')
      .setIssuer('telemed-web')
      .setAudience('signaling')
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(secret));
    await expect(verifyAccessToken(token, { secret, audience: 'signaling' })).rejects.toBeInstanceOf(AccessTokenError);
  });

  it('will not work with a short secret', async () => {
    await expect(mintAccessToken(claims, { secret: 'short', audience: 'signaling', ttlSeconds: 60 })).rejects.toThrow(
      'at least 32',
    );
  });
});
