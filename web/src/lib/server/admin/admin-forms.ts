import { error, fail } from '@sveltejs/kit';
import type { FieldIssue } from '@telemed/domain';
import { apiFailureOf } from '../api/api-response.ts';

/**
 * The admin pages' HTML forms, turned into the same input the REST API takes (so the domain's one
 * validation serves both), and refusals turned into form answers. Field names in the forms are the
 * input's dot paths (`contact.phone`), so field issues land beside the right field unrenamed.
 */

export type FormValues = Record<string, string>;

const text = (form: FormData, name: string, max = 1000) => {
  const value = form.get(name);
  return typeof value === 'string' ? value.slice(0, max) : '';
};

export const siteFormFields = [
  'id',
  'nameJa',
  'nameEn',
  'kind',
  'region',
  'contact.person',
  'contact.phone',
  'contact.email',
] as const;

export function siteFormValues(form: FormData): FormValues {
  return Object.fromEntries(siteFormFields.map((field) => [field, text(form, field)]));
}

/** A site's input from its form; `id` only when registering (it never changes). */
export function siteInput(values: FormValues, withId: boolean) {
  return {
    ...(withId ? { id: values.id } : {}),
    nameJa: values.nameJa,
    nameEn: values.nameEn,
    kind: values.kind,
    region: values.region,
    contact: { person: values['contact.person'], phone: values['contact.phone'], email: values['contact.email'] },
  };
}

export interface AccountFormValues {
  username: string;
  displayName: string;
  siteId: string;
  roles: string[];
}

export function accountFormValues(form: FormData): AccountFormValues {
  return {
    username: text(form, 'username', 100),
    displayName: text(form, 'displayName'),
    siteId: text(form, 'siteId', 100),
    roles: form
      .getAll('roles')
      .filter((value): value is string => typeof value === 'string')
      .slice(0, 10),
  };
}

/** The password is read separately: it is never sent back to the page. */
export const accountPassword = (form: FormData) => text(form, 'password', 300);

/** A refusal as the error page: 403 (not allowed) or 404 (unknown); anything else is rethrown. */
export function errorPageFor(caught: unknown): never {
  const failure = apiFailureOf(caught);
  if (failure?.code === 'forbidden' || failure?.code === 'unauthenticated') {
    error(403, 'forbidden', { code: 'forbidden' });
  }
  if (failure?.code === 'not_found') error(404, 'not found', { code: 'not_found' });
  throw caught;
}

/**
 * A refused submit as a form answer: 400 with field issues, 409 for a refused change (e.g. an
 * admin removing their own admin role); 403/404 become the error page.
 */
export function adminFormFailure<V>(caught: unknown, form: string, values: V) {
  const failure = apiFailureOf(caught);
  if (!failure || !['invalid_input', 'conflict'].includes(failure.code)) errorPageFor(caught);
  const issues: FieldIssue[] = failure.extra.fields ?? [];
  return fail(failure.code === 'invalid_input' ? 400 : 409, {
    form,
    values,
    issues,
    conflict: failure.code === 'conflict',
  });
}

/** A refused action without fields (e.g. deactivating one's own account): 409 for a conflict, else the error page. */
export function adminConflict(caught: unknown, form: string) {
  if (apiFailureOf(caught)?.code !== 'conflict') errorPageFor(caught);
  return fail(409, { form, conflict: true });
}
