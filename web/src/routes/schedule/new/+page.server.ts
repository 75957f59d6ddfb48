import { error, redirect } from '@sveltejs/kit';
import { mayScheduleSessions } from '@telemed/domain';
import type { SessionFormValues } from '#lib/schedule/form-values.ts';
import { addDays, tokyoDay } from '#lib/schedule/calendar-grid.ts';
import { signedInActor } from '#lib/server/actor.ts';
import { scheduleDirectory } from '#lib/server/schedule-directory.ts';
import { formFailure, sessionDraftFromForm, sessionFormValues } from '#lib/server/schedule-forms.ts';
import { scheduleSession } from '#lib/server/session-scheduling.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const actor = await signedInActor(event);
  if (!mayScheduleSessions(actor.account)) error(403, { message: 'forbidden', code: 'forbidden' });
  const requested = event.url.searchParams.get('date');
  const values: SessionFormValues = {
    title: '',
    description: '',
    date: requested && /^\d{4}-\d{2}-\d{2}$/.test(requested) ? requested : addDays(tokyoDay(new Date()), 1),
    startTime: '18:00',
    endTime: '19:00',
    hostAccountId: actor.account.id,
    invitedSiteIds: [actor.account.siteId],
    invitedAccountIds: [],
    recordingAllowed: false,
  };
  return { values, directory: await scheduleDirectory() };
};

export const actions: Actions = {
  default: async (event) => {
    const actor = await signedInActor(event);
    const form = await event.request.formData();
    const values = sessionFormValues(form);
    let sessionId: string;
    try {
      sessionId = (await scheduleSession(actor, sessionDraftFromForm(values, form))).session.id;
    } catch (caught) {
      return formFailure(caught, values, 'session');
    }
    redirect(303, `/schedule/${sessionId}?saved=1`);
  },
};
