import type { z } from 'zod';

/**
 * Field-level problems with an input, in a form both the API (a 400 body) and the UI (a
 * message beside the field, in Japanese or English, keyed by `code`) can use.
 */
export const fieldIssueCodes = [
  'required',
  'too_short',
  'too_long',
  'too_many',
  'invalid_format',
  'invalid_value',
  'end_before_start',
  'too_long_duration',
  'bad_time_zone',
  'unknown_site',
  'unknown_account',
  'taken',
  'stale',
] as const;
export type FieldIssueCode = (typeof fieldIssueCodes)[number];

export interface FieldIssue {
  /** Dot path of the field, e.g. `endsAt`, `cases.0.consent.documentNumber`. */
  field: string;
  code: FieldIssueCode;
  /** English explanation (the UI translates by `code`). */
  message: string;
  /** Limits for the message, e.g. `{ maximum: 200 }`. */
  limit?: number;
}

/** An input that breaks a rule; nothing was stored. */
export class InputError extends Error {
  readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[]) {
    super(issues.map((issue) => `${issue.field}: ${issue.message}`).join('; '));
    this.name = 'InputError';
    this.issues = issues;
  }
}

export function issue(field: string, code: FieldIssueCode, message: string, limit?: number): FieldIssue {
  return limit === undefined ? { field, code, message } : { field, code, message, limit };
}

/** zod's issues as field issues. Custom refinements pass their code in `params.code`. */
export function fieldIssuesFromZod(error: z.ZodError): FieldIssue[] {
  return error.issues.map((zodIssue) => {
    const field = zodIssue.path.map(String).join('.');
    switch (zodIssue.code) {
      case 'too_small': {
        const minimum = Number(zodIssue.minimum);
        const code = zodIssue.origin === 'string' && minimum <= 1 ? 'required' : 'too_short';
        return issue(field, code, zodIssue.message, minimum);
      }
      case 'too_big':
        return issue(
          field,
          zodIssue.origin === 'array' ? 'too_many' : 'too_long',
          zodIssue.message,
          Number(zodIssue.maximum),
        );
      case 'invalid_type':
        return issue(field, zodIssue.input === undefined ? 'required' : 'invalid_value', zodIssue.message);
      case 'invalid_format':
        return issue(field, 'invalid_format', zodIssue.message);
      case 'custom': {
        const code = (zodIssue.params as { code?: FieldIssueCode } | undefined)?.code ?? 'invalid_value';
        return issue(field, code, zodIssue.message);
      }
      default:
        return issue(field, 'invalid_value', zodIssue.message);
    }
  });
}

/** Parses `input` with `schema`, or throws an InputError naming every bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new InputError(fieldIssuesFromZod(parsed.error));
  return parsed.data;
}
