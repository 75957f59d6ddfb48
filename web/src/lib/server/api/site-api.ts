import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { siteDraftSchema, siteIdSchema, siteLinkProfileSchema, sitePatchSchema, siteSchema } from '@telemed/domain';
import { INVALID_INPUT, UNAUTHENTICATED, errorResponses } from './api-response.ts';

/** The sites part of the REST API's OpenAPI description (routes: web/src/routes/api/v1/sites). */

const siteView = siteSchema.meta({ id: 'Site' });
const linkProfileView = siteLinkProfileSchema.meta({ id: 'SiteLinkProfile' });
const siteIdParam = z.object({ id: siteIdSchema });

export const siteApiPaths: ZodOpenApiPathsObject = {
  '/api/v1/sites': {
    get: {
      tags: ['Sites'],
      summary: 'List the sites (any signed-in account: forms show their names)',
      responses: {
        '200': {
          description: 'Every site, by id',
          content: { 'application/json': { schema: z.object({ sites: z.array(siteView) }) } },
        },
        ...errorResponses({ 401: UNAUTHENTICATED }),
      },
    },
    post: {
      tags: ['Sites'],
      summary: 'Register a site (admins)',
      description: 'Audited as `site.created`. The id is permanent: it is how sessions and accounts refer to the site.',
      requestBody: { content: { 'application/json': { schema: siteDraftSchema.meta({ id: 'SiteDraft' }) } } },
      responses: {
        '201': { description: 'Registered', content: { 'application/json': { schema: siteView } } },
        ...errorResponses({
          400: `${INVALID_INPUT}; \`taken\` on \`id\` when a site has that id`,
          401: UNAUTHENTICATED,
          403: 'Not an admin',
        }),
      },
    },
  },
  '/api/v1/sites/{id}': {
    get: {
      tags: ['Sites'],
      summary: 'One site (any signed-in account)',
      requestParams: { path: siteIdParam },
      responses: {
        '200': { description: 'The site', content: { 'application/json': { schema: siteView } } },
        ...errorResponses({ 401: UNAUTHENTICATED, 404: 'Unknown site' }),
      },
    },
    patch: {
      tags: ['Sites'],
      summary: 'Change names, kind, region or contact (admins)',
      description:
        'Only the fields given change; contact fields one by one. The id cannot change (sending another `id` is a 400). Audited as `site.updated` with what changed.',
      requestParams: { path: siteIdParam },
      requestBody: { content: { 'application/json': { schema: sitePatchSchema.meta({ id: 'SitePatch' }) } } },
      responses: {
        '200': { description: 'Changed', content: { 'application/json': { schema: siteView } } },
        ...errorResponses({ 400: INVALID_INPUT, 401: UNAUTHENTICATED, 403: 'Not an admin', 404: 'Unknown site' }),
      },
    },
  },
  '/api/v1/sites/{id}/link-profile': {
    get: {
      tags: ['Sites'],
      summary: 'The site’s link profile (any signed-in account)',
      requestParams: { path: siteIdParam },
      responses: {
        '200': { description: 'The link profile', content: { 'application/json': { schema: linkProfileView } } },
        ...errorResponses({ 401: UNAUTHENTICATED, 404: 'Unknown site' }),
      },
    },
    put: {
      tags: ['Sites'],
      summary: 'Replace the site’s link profile (coordinators and admins)',
      description:
        'What the call caps the site’s video to from the start: a kind of link with typical capacities, or `custom` up/down kbit/s. Nothing else of the site changes. Audited as `site.link-profile` with what changed.',
      requestParams: { path: siteIdParam },
      requestBody: { content: { 'application/json': { schema: linkProfileView } } },
      responses: {
        '200': { description: 'Replaced', content: { 'application/json': { schema: linkProfileView } } },
        ...errorResponses({
          400: INVALID_INPUT,
          401: UNAUTHENTICATED,
          403: 'Neither a coordinator nor an admin',
          404: 'Unknown site',
        }),
      },
    },
  },
};
