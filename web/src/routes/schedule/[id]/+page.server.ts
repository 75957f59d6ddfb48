import { error } from '@sveltejs/kit';
import {
  isInvited,
  mayExportSessionRecord,
  mayManageSession,
  sessionPhase,
  StudyPrefetchQueue,
  type Session,
} from '@telemed/domain';
import { apiFailureOf } from '#lib/server/api/api-response.ts';
import { sessionIdFrom } from '#lib/server/api/session-id.ts';
import { signedInActor } from '#lib/server/actor.ts';
import { logger, webDomain } from '#lib/server/domain.ts';
import { scheduleDirectory, sessionCard } from '#lib/server/schedule-directory.ts';
import { caseDraftFromForm, caseFormValues, formFailure } from '#lib/server/schedule-forms.ts';
import { attachCase, cancelSession, hostSiteOf, viewableSession } from '#lib/server/session-scheduling.ts';
import type { StudyPrefetchView } from '#lib/schedule/study-prefetch-display.ts';
import type { Actions, PageServerLoad } from './$types';

/** Where the session's studies stand in the proxy's prefetch (empty when Redis cannot say). */
async function studyPrefetch(sessionId: string): Promise<Record<string, StudyPrefetchView>> {
  try {
    const { redis } = await webDomain();
    const jobs = await new StudyPrefetchQueue(redis, logger).progressFor(sessionId);
    return Object.fromEntries(
      [...jobs].map(([uid, { state, attempts, instances, bytes }]) => [uid, { state, attempts, instances, bytes }]),
    );
  } catch (error) {
    logger.warn({ err: error, sessionId }, 'study prefetch progress unavailable');
    return {};
  }
}

/** The session as a page: unknown and not-allowed are the same 403 (ids are not to be probed). */
async function pageSession(actor: Awaited<ReturnType<typeof signedInActor>>, id: string): Promise<Session> {
  try {
    return await viewableSession(actor, sessionIdFrom(id));
  } catch (caught) {
    const failure = apiFailureOf(caught);
    if (failure?.code === 'not_found') error(404, { message: 'not found', code: 'not_found' });
    if (failure) error(403, { message: 'forbidden', code: 'forbidden' });
    throw caught;
  }
}

export const load: PageServerLoad = async (event) => {
  // The page re-runs this while a prefetch is in progress (see +page.svelte).
  event.depends('app:study-prefetch');
  const actor = await signedInActor(event);
  const session = await pageSession(actor, event.params.id);
  const directory = await scheduleDirectory();
  const phase = sessionPhase(session);
  const open = phase === 'scheduled' || phase === 'live';
  const names = new Map(directory.accounts.map((account) => [account.id, account.displayName]));
  const hostSiteId = await hostSiteOf(session);
  const mayExportRecord = mayExportSessionRecord(actor.account, session, hostSiteId);
  return {
    session: sessionCard(session, directory),
    sites: directory.sites.map(({ id, nameJa, nameEn }) => ({ id, nameJa, nameEn })),
    invitedAccounts: session.invitedAccountIds.map((id) => names.get(id) ?? id),
    cases: session.cases.map((sessionCase) => ({
      ...sessionCase,
      attachedBy: names.get(sessionCase.attachedByAccountId) ?? '—',
    })),
    mayManage: open && mayManageSession(actor.account, session, hostSiteId),
    recordingAllowed: session.recordingAllowed,
    /** The record's downloads and its chat's size, for those who may export it. */
    record: mayExportRecord ? { chatMessages: await (await webDomain()).chat.count(session.id) } : null,
    mayJoin: phase === 'live' && isInvited(actor.account, session),
    saved: event.url.searchParams.has('saved'),
    prefetch: await studyPrefetch(session.id),
  };
};

export const actions: Actions = {
  cancel: async (event) => {
    const actor = await signedInActor(event);
    try {
      const reason = (await event.request.formData()).get('reason');
      await cancelSession(
        actor,
        sessionIdFrom(event.params.id),
        typeof reason === 'string' ? reason.slice(0, 500) : '',
      );
    } catch (caught) {
      return formFailure(caught, {}, 'cancel');
    }
    return { form: 'cancel' as const, done: true };
  },
  attachCase: async (event) => {
    const actor = await signedInActor(event);
    const values = caseFormValues(await event.request.formData());
    try {
      await attachCase(actor, sessionIdFrom(event.params.id), caseDraftFromForm(values));
    } catch (caught) {
      return formFailure(caught, values, 'case');
    }
    return { form: 'case' as const, done: true };
  },
};
