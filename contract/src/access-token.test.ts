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
    const imaging = { sessionId: '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f', studies: [], mayQuerySources: false };
    const token = await mintAccessToken({ ...claims, imaging }, { secret, audience: 'dicom-proxy', ttlSeconds: 60 });
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

  describe('imaging grant (DICOM proxy)', () => {
    const imaging = {
      sessionId: '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f',
      studies: [
        { studyInstanceUid: '1.2.392.200036.9116.2.6.1.48.1', deidentify: false },
        { studyInstanceUid: '1.2.840.113619.2.55.3.2831164355', deidentify: true },
      ],
      mayQuerySources: false,
    };

    it('round-trips the grant for the DICOM proxy', async () => {
      const token = await mintAccessToken({ ...claims, imaging }, { secret, audience: 'dicom-proxy', ttlSeconds: 60 });
      const verified = await verifyAccessToken(token, { secret, audience: 'dicom-proxy' });
      expect(verified).toMatchObject({ ...claims, imaging });
    });

    it('will not mint a proxy token without a grant, nor a signaling token with one', async () => {
      await expect(mintAccessToken(claims, { secret, audience: 'dicom-proxy', ttlSeconds: 60 })).rejects.toThrow();
      await expect(
        mintAccessToken({ ...claims, imaging }, { secret, audience: 'signaling', ttlSeconds: 60 }),
      ).rejects.toThrow();
    });

    it('will not mint a grant with a malformed UID, a repeated study, too many studies or a bad session id', async () => {
      const bad = [
        { ...imaging, studies: [{ studyInstanceUid: '1.2.03', deidentify: false }] },
        { ...imaging, studies: [{ studyInstanceUid: '1.2.3/../4', deidentify: false }] },
        { ...imaging, studies: [imaging.studies[0], imaging.studies[0]] },
        {
          ...imaging,
          studies: Array.from({ length: 51 }, (_, index) => ({ studyInstanceUid: `1.2.${index}`, deidentify: false })),
        },
        { ...imaging, sessionId: 'not-a-uuid' },
        { ...imaging, extra: true },
      ];
      for (const grant of bad) {
        await expect(
          mintAccessToken({ ...claims, imaging: grant as never }, { secret, audience: 'dicom-proxy', ttlSeconds: 60 }),
        ).rejects.toThrow();
      }
    });

    it('refuses a validly signed proxy token whose grant is missing or malformed', async () => {
      const sign = (payload: Record<string, unknown>) =>
        new SignJWT(payload)
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('account-1')
          .setIssuer('telemed-web')
          .setAudience('dicom-proxy')
          .setExpirationTime('1m')
          .sign(new TextEncoder().encode(secret));
      const { sub: _sub, ...rest } = claims;
      for (const payload of [
        rest,
        { ...rest, imaging: { ...imaging, studies: [{ studyInstanceUid: 'x', deidentify: false }] } },
        { ...rest, imaging: { ...imaging, mayQuerySources: 'yes' } },
      ]) {
        await expect(
          verifyAccessToken(await sign(payload), { secret, audience: 'dicom-proxy' }),
        ).rejects.toBeInstanceOf(AccessTokenError);
      }
    });

    it('keeps a grant out of signaling even when validly signed', async () => {
      const { sub: _sub, ...rest } = claims;
      const token = await new SignJWT({ ...rest, imaging })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('account-1')
        .setIssuer('telemed-web')
        .setAudience('signaling')
        .setExpirationTime('1m')
        .sign(new TextEncoder().encode(secret));
      await expect(verifyAccessToken(token, { secret, audience: 'signaling' })).rejects.toBeInstanceOf(
        AccessTokenError,
      );
    });
  });
});
