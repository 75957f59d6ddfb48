import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { apiErrorSchema } from './api-response.ts';

/** The auth part of the REST API: sign-in tokens for other systems, and their OpenAPI description. */

export const tokenRequestSchema = z
  .object({
    username: z.string().trim().min(1).max(64),
    password: z.string().min(1).max(256),
    totpCode: z
      .string()
      .trim()
      .regex(/^[0-9]{6}$/, 'six digits')
      .optional()
      .meta({ description: 'The current code of the authenticator app, for accounts with a second factor' }),
  })
  .meta({ id: 'TokenRequest' });

export const tokenResponseSchema = z
  .object({
    token: z.string().meta({ description: 'Send as `Authorization: Bearer <token>`' }),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'Token' });

const errorContent = { 'application/json': { schema: apiErrorSchema } };
const retryAfter = z.object({
  'Retry-After': z.number().int().meta({ description: 'Seconds until another attempt may succeed' }),
});

export const authApiPaths: ZodOpenApiPathsObject = {
  '/api/v1/auth/token': {
    post: {
      tags: ['Auth'],
      summary: 'Get a sign-in token for an account',
      description:
        'Checks the username, password and (for accounts with a second factor) `totpCode`, and answers with a ' +
        'token valid like a browser sign-in. Failed attempts count toward the username lock and the per-address ' +
        'limit, as on the sign-in page. Accounts that must first change their password or set up a second ' +
        'factor get 403 until they have done so on the web.',
      security: [],
      requestBody: { content: { 'application/json': { schema: tokenRequestSchema } } },
      responses: {
        '200': { description: 'Signed in', content: { 'application/json': { schema: tokenResponseSchema } } },
        '400': { description: 'Invalid input: `error.fields` names each bad field', content: errorContent },
        '401': {
          description:
            'Wrong username, password or code (the same answer for each); `error.fields` names `totpCode` when ' +
            'the account needs one',
          content: errorContent,
        },
        '403': {
          description: 'The account must change its password or set up a second factor first',
          content: errorContent,
        },
        '429': {
          description: 'Too many attempts from this address, or the username is temporarily locked',
          headers: retryAfter,
          content: errorContent,
        },
      },
    },
  },
  '/api/v1/auth/revoke': {
    post: {
      tags: ['Auth'],
      summary: 'End the bearer token of this request',
      security: [{ bearer: [] }],
      responses: {
        '204': { description: 'The token no longer works' },
        '401': { description: 'No valid bearer token', content: errorContent },
      },
    },
  },
};
