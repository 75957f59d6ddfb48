import { error } from '@sveltejs/kit';
import {
  ROOM_OPENS_BEFORE_MS,
  isInvited,
  linkCaps,
  mayAdmit,
  mayProduceMedia,
  mayShareStudies,
  readsCaseDeidentified,
  sessionPhase,
  type Account,
  type Session,
} from '@telemed/domain';
import type { SessionCaseSummary } from '#lib/joint-read/session-case.ts';
import { signedInActor } from '#lib/server/actor.ts';
import { sessionIdFrom } from '#lib/server/api/session-id.ts';
import { webDomain } from '#lib/server/domain.ts';
import { requireAccount } from '#lib/server/guards.ts';
import { caseDraftFromForm, caseFormValues, formFailure } from '#lib/server/schedule-forms.ts';
import { checkSessionEntry } from '#lib/server/session-entry.ts';
import { attachCase } from '#lib/server/session-scheduling.ts';
import { signalingUrl } from '#lib/server/signaling-url.ts';
import type { Actions, PageServerLoad } from './$types';

/**
 * The 403 for a refused room. Invited (or admitted) accounts learn when the room opens or that
 * the session is over; everyone else gets one answer whether the session exists or not (ids are
 * not to be probed), with the offer to ask the host through the waiting room.
 */
function refuse(id: string | null, account: Account | null, session: Session | null, admitted: boolean): never {
  if (account && session && (isInvited(account, session) || admitted)) {
    const phase = sessionPhase(session);
    if (phase === 'scheduled' || phase === 'ended' || phase === 'cancelled') {
      error(403, phase === 'scheduled' ? 'the room opens 15 minutes before the start' : `the session is ${phase}`, {
        code: 'not-live',
        schedule: {
          startsAt: session.startsAt,
          endsAt: session.endsAt,
          opensAt: new Date(Date.parse(session.startsAt) - ROOM_OPENS_BEFORE_MS).toISOString(),
          phase,
        },
      });
    }
  }
  error(403, 'forbidden', {
    code: 'forbidden',
    ...(id && account?.active ? { lobbyPath: `/sessions/${id}/lobby` } : {}),
  });
}

export const load: PageServerLoad = async ({ locals, params, url, getClientAddress }) => {
  const signedIn = requireAccount(locals, url);
  const entry = await checkSessionEntry(signedIn, params.id, {
    deniedAction: 'conference.denied',
    ip: getClientAddress(),
    detail: { via: 'room page' },
  });
  if (!entry.allowed) refuse(entry.sessionId, entry.account, entry.session, entry.admitted);
  const { account, session } = entry;
  const sharing = mayShareStudies(account, session);
  return {
    session: { id: session.id, title: session.title, startsAt: session.startsAt, endsAt: session.endsAt },
    signalingUrl: signalingUrl(url),
    mayProduceMedia: mayProduceMedia(account),
    isHost: mayAdmit(account, session),
    /** The cases attached to the session: their studies are ready to open in the joint read. */
    cases: session.cases.map((sessionCase): SessionCaseSummary => ({
      id: sessionCase.id,
      // Readers who see the case de-identified do not see the hospital's patient reference either.
      patientRef: readsCaseDeidentified(account, sessionCase) ? null : sessionCase.patientRef,
      summary: sessionCase.summary,
      studyInstanceUids: sessionCase.studyInstanceUids,
    })),
    /** What this site's link profile caps the call to (its coordinator sets it; unrestricted by default). */
    linkCaps: linkCaps((await (await webDomain()).sites.get(account.siteId))?.linkProfile ?? { kind: 'unrestricted' }),
    /** Whether the session allows recording (the room's banner says so; signaling keeps it current). */
    recordingAllowed: session.recordingAllowed,
    /** Whether the study browser is offered: search the sources and share a study into the call. */
    mayShareStudies: sharing,
    /** Where a shared study's patient may be cared for (the case form's "patient's site"). */
    sites: sharing
      ? (await (await webDomain()).sites.list()).map(({ id, nameJa, nameEn }) => ({ id, nameJa, nameEn }))
      : [],
  };
};

export const actions: Actions = {
  /** A study chosen in the study browser, shared into the live call as a case with its consent. */
  shareStudy: async (event) => {
    const actor = await signedInActor(event);
    const values = caseFormValues(await event.request.formData());
    try {
      await attachCase(actor, sessionIdFrom(event.params.id), caseDraftFromForm(values));
    } catch (caught) {
      return formFailure(caught, values, 'share');
    }
    return { form: 'share' as const, done: true };
  },
};
