import type { ZodOpenApiPathsObject } from 'zod-openapi';

/** The session routes' OpenAPI description (filled in with the routes). */
export const sessionApiPaths: ZodOpenApiPathsObject = {};
