import type { ZodOpenApiResponsesObject } from 'zod-openapi';
import { apiErrorSchema } from '../api/api-response.ts';

/** The OpenAPI error answers of the sites, accounts and audit routes, each with the `Error` body. */
export function errorResponses(descriptions: Record<number, string>): ZodOpenApiResponsesObject {
  return Object.fromEntries(
    Object.entries(descriptions).map(([status, description]) => [
      status,
      { description, content: { 'application/json': { schema: apiErrorSchema } } },
    ]),
  );
}

export const INVALID_INPUT = 'Invalid input: `error.fields` names each bad field (nothing was stored)';
export const UNAUTHENTICATED = 'Not signed in (no valid cookie or Bearer token)';
