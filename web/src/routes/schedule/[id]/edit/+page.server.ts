import { error, redirect } from '@sveltejs/kit';
import { mayManageSession } from '@telemed/domain';
import type { SessionFormValues } from '#lib/schedule/form-values.ts';
import { tokyoClock, tokyoDay } from '#lib/schedule/calendar-grid.ts';
import { sessionIdFrom } from '#lib/server/api/session-id.ts';
import { apiFailureOf } from '#lib/server/api/api-response.ts';
import { signedInActor } from '#lib/server/actor.ts';
import { scheduleDirectory } from '#lib/server/schedule-directory.ts';
import { formFailure, sessionDraftFromForm, sessionFormValues } from '#lib/server/schedule-forms.ts';
import { editSession, hostSiteOf, viewableSession } from '#lib/server/session-scheduling.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const actor = await signedInActor(event);
  let session;
  try {
    session = await viewableSession(actor, sessionIdFrom(event.params.id));
  } catch (caught) {
    if (apiFailureOf(caught)) error(403, { message: 'forbidden', code: 'forbidden' });
    throw caught;
  }
  if (!mayManageSession(actor.account, session, await hostSiteOf(session))) {
    error(403, { message: 'forbidden', code: 'forbidden' });
  }
  const values: SessionFormValues = {
    title: session.title,
    description: session.description,
    date: tokyoDay(session.startsAt),
    startTime: tokyoClock(session.startsAt),
    endTime: tokyoClock(session.endsAt),
    hostAccountId: session.hostAccountId,
    invitedSiteIds: session.invitedSiteIds,
    invitedAccountIds: session.invitedAccountIds,
    recordingAllowed: session.recordingAllowed,
    sequence: String(session.sequence),
  };
  return { id: session.id, values, directory: await scheduleDirectory() };
};

export const actions: Actions = {
  default: async (event) => {
    const actor = await signedInActor(event);
    const form = await event.request.formData();
    const values = sessionFormValues(form);
    const sequence = Number(values.sequence);
    try {
      await editSession(actor, sessionIdFrom(event.params.id), {
        ...sessionDraftFromForm(values, form),
        ...(Number.isInteger(sequence) && values.sequence ? { expectedSequence: sequence } : {}),
      });
    } catch (caught) {
      return formFailure(caught, values, 'session');
    }
    redirect(303, `/schedule/${event.params.id}?saved=1`);
  },
};
