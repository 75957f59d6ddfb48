import { error, fail } from '@sveltejs/kit';
import type { BookingConflict, CaseDraft, FieldIssue, SessionDraft } from '@telemed/domain';
import type { CaseFormValues, SessionFormValues } from '../schedule/form-values.ts';
import { apiFailureOf } from './api/api-response.ts';

/**
 * The schedule's HTML forms, turned into the same drafts the REST API takes (so one validation
 * serves both), and the domain's refusals turned into form answers.
 */

const text = (form: FormData, name: string, max = 5000) => {
  const value = form.get(name);
  return typeof value === 'string' ? value.slice(0, max) : '';
};
const texts = (form: FormData, name: string) =>
  form
    .getAll(name)
    .filter((value): value is string => typeof value === 'string')
    .slice(0, 200);

export function sessionFormValues(form: FormData): SessionFormValues {
  return {
    title: text(form, 'title'),
    description: text(form, 'description'),
    date: text(form, 'date', 20),
    startTime: text(form, 'startTime', 10),
    endTime: text(form, 'endTime', 10),
    hostAccountId: text(form, 'hostAccountId', 64),
    invitedSiteIds: texts(form, 'invitedSiteIds'),
    invitedAccountIds: texts(form, 'invitedAccountIds'),
    recordingAllowed: form.get('recordingAllowed') === 'on',
    sequence: text(form, 'sequence', 20),
  };
}

/** The form's fields as a draft: date + times are Japan time (the form says so). */
export function sessionDraftFromForm(values: SessionFormValues, form: FormData): SessionDraft {
  return {
    title: values.title,
    description: values.description,
    startsAt: values.date && values.startTime ? `${values.date}T${values.startTime}` : '',
    endsAt: values.date && values.endTime ? `${values.date}T${values.endTime}` : '',
    timeZone: 'Asia/Tokyo',
    ...(values.hostAccountId ? { hostAccountId: values.hostAccountId } : {}),
    invitedSiteIds: values.invitedSiteIds,
    invitedAccountIds: values.invitedAccountIds,
    recordingAllowed: values.recordingAllowed,
    allowDoubleBooking: form.get('allowDoubleBooking') === 'on',
  };
}

/** Domain field names as the form's field names. */
export function formIssues(issues: FieldIssue[]): FieldIssue[] {
  const renamed: Record<string, string> = { startsAt: 'startTime', endsAt: 'endTime' };
  return issues.map((issue) => {
    const [head, ...rest] = issue.field.split('.');
    const field = renamed[head ?? ''];
    if (field) return { ...issue, field: [field, ...rest].join('.') };
    if (head === 'consent') return { ...issue, field: `consent.${rest.join('.')}` };
    return issue;
  });
}

export function caseFormValues(form: FormData): CaseFormValues {
  return {
    patientRef: text(form, 'patientRef', 200),
    summary: text(form, 'summary', 1000),
    studyInstanceUids: text(form, 'studyInstanceUids', 3000),
    documentNumber: text(form, 'documentNumber', 200),
    recordedBy: text(form, 'recordedBy', 200),
    recordedAt: text(form, 'recordedAt', 40),
    patientSiteId: text(form, 'patientSiteId', 64),
    deidentifyOutsidePatientSite: form.get('deidentifyOutsidePatientSite') === 'on',
  };
}

export function caseDraftFromForm(values: CaseFormValues): CaseDraft {
  return {
    patientRef: values.patientRef,
    summary: values.summary,
    studyInstanceUids: values.studyInstanceUids
      .split(/[\s,]+/)
      .map((uid) => uid.trim())
      .filter(Boolean),
    consent: { documentNumber: values.documentNumber, recordedBy: values.recordedBy, recordedAt: values.recordedAt },
    patientSiteId: values.patientSiteId || null,
    deidentifyOutsidePatientSite: values.deidentifyOutsidePatientSite,
    timeZone: 'Asia/Tokyo',
  };
}

/**
 * A refused form submit as a form answer (400 with field issues, 409 with double bookings or a
 * state message); 403/404 become the error page. Anything unexpected is rethrown.
 */
export function formFailure<V>(caught: unknown, values: V, form: string) {
  const failure = apiFailureOf(caught);
  if (!failure) throw caught;
  if (failure.code === 'forbidden' || failure.code === 'unauthenticated') {
    error(403, { message: 'forbidden', code: 'forbidden' });
  }
  if (failure.code === 'not_found') error(404, { message: 'not found', code: 'not_found' });
  const conflicts: BookingConflict[] = failure.extra.conflicts ?? [];
  const stateProblem = failure.code === 'conflict' ? (/meanwhile/.test(failure.message) ? 'stale' : 'closed') : null;
  return fail(failure.code === 'invalid_input' ? 400 : 409, {
    form,
    values,
    issues: formIssues(failure.extra.fields ?? []),
    conflicts,
    stateProblem,
  });
}
