import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { z } from 'zod';

/**
 * Short-lived access tokens the web server mints for a signed-in account and the other
 * services verify: one format (an HS256 JWT from `jose`) for signaling's handshake and for the
 * DICOM proxy. The audience keeps a token for one service from opening another.
 *
 * A DICOM-proxy token also carries an `imaging` grant: the one session it was issued for and
 * the studies shared in it (each with whether this reader sees it de-identified). The proxy
 * checks it locally (signature and expiry, no Redis), so the grant is the whole authorisation.
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

/** A DICOM UID (PS3.5 §9.1); the same rule as the domain's, kept here so the contract stands alone. */
export const grantedStudyUidSchema = z
  .string()
  .max(64)
  .regex(/^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/, 'a DICOM UID');

/** The most studies one imaging grant names (a session has at most a few cases of a few studies). */
export const IMAGING_GRANT_MAX_STUDIES = 50;

export const imagingGrantSchema = z.strictObject({
  sessionId: z.uuid(),
  studies: z
    .array(z.strictObject({ studyInstanceUid: grantedStudyUidSchema, deidentify: z.boolean() }))
    .max(IMAGING_GRANT_MAX_STUDIES)
    .refine(
      (studies) => new Set(studies.map((study) => study.studyInstanceUid)).size === studies.length,
      'each study once',
    ),
  /** Whether the account may search the sources beyond the shared studies (the study browser). */
  mayQuerySources: z.boolean(),
});
export type ImagingGrant = z.infer<typeof imagingGrantSchema>;

/** What the web server signs: `imaging` only for the DICOM proxy, where it is required. */
export type AccessTokenClaims = AccessClaims & { imaging?: ImagingGrant };

export interface VerifiedAccess extends AccessClaims {
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** Present exactly when the audience is `dicom-proxy`. */
  imaging?: ImagingGrant;
}

function claimsSchemaFor(audience: TokenAudience) {
  return audience === 'dicom-proxy'
    ? accessClaimsSchema.extend({ imaging: imagingGrantSchema })
    : accessClaimsSchema.extend({ imaging: z.undefined().optional() });
}

function key(secret: string): Uint8Array {
  if (secret.length < 32) throw new Error('access-token secret must be at least 32 characters');
  return new TextEncoder().encode(secret);
}

/** Signs the claims; throws (a zod error) when they do not fit the audience, e.g. a grant for signaling. */
export async function mintAccessToken(
  claims: AccessTokenClaims,
  options: { secret: string; audience: TokenAudience; ttlSeconds: number },
): Promise<string> {
  const signingKey = key(options.secret);
  const { sub, imaging, ...rest } = claimsSchemaFor(options.audience).parse(claims);
  const payload = imaging ? { ...rest, imaging } : rest;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setAudience(options.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + options.ttlSeconds)
    .sign(signingKey);
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
    const { imaging, ...claims } = claimsSchemaFor(options.audience).parse(payload);
    return { ...claims, exp: payload.exp ?? 0, ...(imaging ? { imaging } : {}) };
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new AccessTokenError('access token expired');
    throw new AccessTokenError('access token invalid');
  }
}
