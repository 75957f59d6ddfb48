import type { ZodOpenApiPathsObject } from 'zod-openapi';

/** The auth routes' OpenAPI description (filled in with the routes). */
export const authApiPaths: ZodOpenApiPathsObject = {};
