import type { ZodOpenApiPathsObject } from 'zod-openapi';

/** The site routes' OpenAPI description (filled in with the routes). */
export const siteApiPaths: ZodOpenApiPathsObject = {};
