import type { ZodOpenApiPathsObject } from 'zod-openapi';

/** The account routes' OpenAPI description (filled in with the routes). */
export const accountApiPaths: ZodOpenApiPathsObject = {};
