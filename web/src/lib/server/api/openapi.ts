import { createDocument } from 'zod-openapi';
import { accountApiPaths } from './account-api.ts';
import { auditApiPaths } from './audit-api.ts';
import { authApiPaths } from './auth-api.ts';
import { sessionApiPaths } from './session-api.ts';
import { siteApiPaths } from './site-api.ts';

/**
 * The REST API's OpenAPI document, generated from the same zod schemas the routes validate
 * with (so the documentation cannot drift from the code). Served at /api/v1/openapi.json.
 */
export function openApiDocument(serverUrl: string) {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Island Telemedicine Conference API',
      version: '1.0.0',
      description:
        'Sessions (scheduled case conferences), sites, accounts and the audit trail, for integrating a ' +
        "hospital's own scheduling system. Times are UTC (ISO 8601) in answers; inputs accept an offset or " +
        'a local time with `timeZone` (default Asia/Tokyo). Every failure answers with the `Error` body.',
    },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token from POST /api/v1/auth/token' },
        cookie: { type: 'apiKey', in: 'cookie', name: 'telemed_signin', description: 'A browser sign-in' },
      },
    },
    security: [{ bearer: [] }, { cookie: [] }],
    paths: { ...authApiPaths, ...sessionApiPaths, ...siteApiPaths, ...accountApiPaths, ...auditApiPaths },
  });
}
