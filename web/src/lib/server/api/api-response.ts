import { json, type RequestEvent } from '@sveltejs/kit';
import type { ZodOpenApiResponsesObject } from 'zod-openapi';
import { z } from 'zod';
import {
  DoubleBookingError,
  InputError,
  SessionStateError,
  fieldIssueCodes,
  issue,
  parseInput,
  type FieldIssue,
} from '@telemed/domain';
import { logger } from '../domain.ts';

/**
 * The REST API's answers: JSON bodies, and one typed error shape for every failure, so an
 * integrating system can act on `error.code` and show `error.fields` beside its own form fields.
 */

export const apiErrorCodes = [
  'invalid_input',
  'unauthenticated',
  'forbidden',
  'not_found',
  'double_booking',
  'conflict',
  'rate_limited',
  'internal',
] as const;
export type ApiErrorCode = (typeof apiErrorCodes)[number];

export const fieldIssueSchema = z
  .object({
    field: z.string().meta({ description: 'Dot path of the field, e.g. `endsAt` or `invitedSiteIds.0`' }),
    code: z.enum(fieldIssueCodes),
    message: z.string(),
    limit: z.number().optional(),
  })
  .meta({ id: 'FieldIssue' });

export const bookingConflictSchema = z
  .object({
    sessionId: z.uuid(),
    title: z.string(),
    startsAt: z.iso.datetime(),
    endsAt: z.iso.datetime(),
    siteIds: z.array(z.string()).meta({ description: 'Sites booked by both sessions' }),
    accountIds: z.array(z.uuid()).meta({ description: 'Accounts booked by both sessions' }),
  })
  .meta({ id: 'BookingConflict' });

export const apiErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(apiErrorCodes),
      message: z.string(),
      fields: z.array(fieldIssueSchema).optional(),
      conflicts: z.array(bookingConflictSchema).optional(),
    }),
  })
  .meta({ id: 'Error' });
export type ApiErrorBody = z.infer<typeof apiErrorSchema>;

const statusOf: Record<ApiErrorCode, number> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  double_booking: 409,
  conflict: 409,
  rate_limited: 429,
  internal: 500,
};

/** Thrown inside an API route to answer with a typed error. */
export class ApiFailure extends Error {
  readonly code: ApiErrorCode;
  readonly extra: Omit<ApiErrorBody['error'], 'code' | 'message'>;
  readonly headers: Record<string, string>;
  constructor(
    code: ApiErrorCode,
    message: string,
    extra: Omit<ApiErrorBody['error'], 'code' | 'message'> = {},
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.code = code;
    this.extra = extra;
    this.headers = headers;
  }
}

export function errorResponse(failure: ApiFailure): Response {
  const body: ApiErrorBody = { error: { code: failure.code, message: failure.message, ...failure.extra } };
  return json(body, { status: statusOf[failure.code], headers: { 'cache-control': 'no-store', ...failure.headers } });
}

/** The failure an error from the domain stands for, or null for an unexpected error. */
export function apiFailureOf(error: unknown): ApiFailure | null {
  if (error instanceof ApiFailure) return error;
  if (error instanceof InputError)
    return new ApiFailure('invalid_input', 'the input is not valid', { fields: error.issues });
  if (error instanceof DoubleBookingError) {
    return new ApiFailure('double_booking', 'a site or account is already booked at that time', {
      conflicts: error.conflicts,
    });
  }
  if (error instanceof SessionStateError) return new ApiFailure('conflict', error.message);
  return null;
}

/**
 * Runs an API route: domain errors become typed 4xx answers; anything else is logged and
 * answered with a bare 500 (no internals leak).
 */
export async function apiRoute(event: RequestEvent, run: () => Promise<Response>): Promise<Response> {
  try {
    return await run();
  } catch (error) {
    const failure = apiFailureOf(error);
    if (failure) return errorResponse(failure);
    logger.error({ err: error, path: event.url.pathname, method: event.request.method }, 'API request failed');
    return errorResponse(new ApiFailure('internal', 'internal error'));
  }
}

/** The request's JSON body parsed with `schema`; a body that is not JSON is a field-less 400. */
export async function readJsonBody<S extends z.ZodType>(request: Request, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    throw new InputError([issue('', 'invalid_format', 'the body must be JSON')]);
  }
  return parseInput(schema, body);
}

export type { FieldIssue };

/** OpenAPI error answers, each with the `Error` body, described per status. */
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
