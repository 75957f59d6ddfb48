import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { z } from 'zod';

/**
 * Short-lived access tokens the web server mints for a signed-in account and the other
 * services verify: one format (an HS256 JWT from `jose`) for signaling's handshake and, later,
 * for the DICOM proxy. The audience keeps a token for one service from opening another.
 */

export const ISSUER = 'telemed-web';

export const tokenAudiences = ['signaling', 'dicom-proxy'] as const;
export type TokenAudience = (typeof tokenAudiences)[number];

export const accessClaimsSchema = z.object({
  /** Account id. */
  sub: z.string().min(1).max(64),
  /** Display name, for logs and presence. */
  name: z.string().min(1).max(100),
  siteId: z.string().min(1).max(64),
  roles: z.array(z.string().max(32)).max(8),
});
export type AccessClaims = z.infer<typeof accessClaimsSchema>;

export interface VerifiedAccess extends AccessClaims {
  /** Expiry, seconds since the epoch. */
  exp: number;
}

function key(secret: string): Uint8Array {
  if (secret.length < 32) throw new Error('access-token secret must be at least 32 characters');
  return new TextEncoder().encode(secret);
}

export async function mintAccessToken(
  claims: AccessClaims,
  options: { secret: string; audience: TokenAudience; ttlSeconds: number },
): Promise<string> {
  const { sub, ...rest } = accessClaimsSchema.parse(claims);
  return new SignJWT(rest)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setAudience(options.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + options.ttlSeconds)
    .sign(key(options.secret));
}

export class AccessTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccessTokenError';
  }
}

/** Verifies signature, issuer, audience and expiry; throws `AccessTokenError` otherwise. */
export async function verifyAccessToken(
  token: unknown,
  options: { secret: string; audience: TokenAudience },
): Promise<VerifiedAccess> {
  if (typeof token !== 'string' || token.length === 0 || token.length > 4096) {
    throw new AccessTokenError('access token missing');
  }
  try {
    const { payload } = await jwtVerify(token, key(options.secret), {
      issuer: ISSUER,
      audience: options.audience,
      algorithms: ['HS256'],
    });
    const claims = accessClaimsSchema.parse(payload);
    return { ...claims, exp: payload.exp ?? 0 };
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new AccessTokenError('access token expired');
    throw new AccessTokenError('access token invalid');
  }
}
