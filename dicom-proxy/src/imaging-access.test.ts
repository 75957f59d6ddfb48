import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { mintAccessToken } from '@telemed/contract/access-token';
import { ImagingAccessError, authorizeImagingRequest } from './imaging-access.ts';

const secret = 'imaging-access-test-secret-0123456789';
const sessionId = '0d6b7a52-3f0e-4b8e-9d41-6a2f5c1e7b90';
const shared = '1.2.392.200036.9116.2.6.1.48.1214833767.1';
const sharedDeidentified = '1.2.840.113619.2.55.3.604688119.969.1';
const claims = {
  sub: 'f3b1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  name: '佐藤 花子',
  siteId: 'aoshima',
  roles: ['site-doctor'],
  imaging: {
    sessionId,
    studies: [
      { studyInstanceUid: shared, deidentify: false },
      { studyInstanceUid: sharedDeidentified, deidentify: true },
    ],
    mayQuerySources: false,
  },
};

const mint = (ttlSeconds = 60, tokenSecret = secret) =>
  mintAccessToken(claims, { secret: tokenSecret, audience: 'dicom-proxy', ttlSeconds });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function refusal(headers: Record<string, string | undefined>): Promise<unknown> {
  try {
    await authorizeImagingRequest(headers, secret);
  } catch (error) {
    return error;
  }
  return 'accepted';
}

describe('imaging access', () => {
  it('grants the studies named in the token, each with its de-identification, and nothing else', async () => {
    const access = await authorizeImagingRequest(bearer(await mint()), secret);
    expect(access.actor).toEqual({ accountId: claims.sub, siteId: 'aoshima', sessionId });
    expect(access.mayQuerySources).toBe(false);
    expect(access.expiresAt).toBeGreaterThan(Date.now() / 1000);
    expect(access.studyGrant(shared)).toEqual({ studyInstanceUid: shared, deidentify: false });
    expect(access.studyGrant(sharedDeidentified)).toEqual({ studyInstanceUid: sharedDeidentified, deidentify: true });
    expect(access.studyGrant('1.2.392.200036.9116.2.6.1.48.999')).toBeNull();
    expect(access.studyGrant(`${shared}.1`)).toBeNull();
    expect(access.studyGrant('')).toBeNull();
  });

  it('accepts the scheme in any case', async () => {
    const token = await mint();
    await expect(authorizeImagingRequest({ authorization: `bearer ${token}` }, secret)).resolves.toBeTruthy();
  });

  it('answers 401 without a token', async () => {
    for (const headers of [{}, { authorization: '' }, { authorization: '   ' }]) {
      const error = await refusal(headers);
      expect(error).toBeInstanceOf(ImagingAccessError);
      expect(error).toMatchObject({ status: 401, reason: 'missing' });
    }
  });

  it('answers 401 for an expired token', async () => {
    expect(await refusal(bearer(await mint(-5)))).toMatchObject({ status: 401, reason: 'expired' });
  });

  it('answers 401 for another secret, a tampered grant, another audience, other schemes and garbage', async () => {
    const good = await mint();
    const [header, payload, signature] = good.split('.');
    const grant = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as typeof claims;
    grant.imaging.studies.push({ studyInstanceUid: '1.2.3.4', deidentify: false });
    const tampered = `${header}.${Buffer.from(JSON.stringify(grant)).toString('base64url')}.${signature}`;
    const { imaging: _imaging, ...signalingClaims } = claims;
    const signaling = await mintAccessToken(signalingClaims, { secret, audience: 'signaling', ttlSeconds: 60 });
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    const noGrant = await new SignJWT({ name: 'x', siteId: 'aoshima', roles: [] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('a')
      .setIssuer('telemed-web')
      .setAudience('dicom-proxy')
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(secret));
    for (const headers of [
      bearer(await mint(60, `${secret}-other`)),
      bearer(tampered),
      bearer(signaling),
      bearer(unsigned),
      bearer(noGrant),
      { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      { authorization: good },
      { authorization: `Bearer ${good} extra` },
      bearer('not-a-token'),
      bearer('x'.repeat(5000)),
    ]) {
      expect(await refusal(headers)).toMatchObject({ status: 401, reason: 'invalid' });
    }
  });
});
