import type { ZodOpenApiPathsObject } from 'zod-openapi';

/** The audit routes' OpenAPI description (filled in with the routes). */
export const auditApiPaths: ZodOpenApiPathsObject = {};
