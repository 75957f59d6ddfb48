import { sessionIdSchema } from '@telemed/contract';
import { ApiFailure } from './api-response.ts';

/** A session id from a path; anything that is not one is refused like an unknown session. */
export function sessionIdFrom(value: string): string {
  const parsed = sessionIdSchema.safeParse(value);
  if (!parsed.success) throw new ApiFailure('forbidden', 'not allowed for this account');
  return parsed.data;
}
