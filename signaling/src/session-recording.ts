import type { ConferenceResponses, RecordingState, conferenceRequestSchemas } from '@telemed/contract';
import type { RequestHandlers } from '@telemed/contract/server';
import type { Session } from '@telemed/domain';
import { requireSeat, type ConferenceDependencies, type SessionSeat } from './conference-participant.ts';

/**
 * The recording consent guard of a call: whether the session allows recording, and whether a
 * recording runs. Nothing records yet, so `active` is always false; whatever records one day
 * must ask `mayStartRecording` first and report itself here, so every room shows its banner.
 */

export type RecordingRequestName = 'recording:state';
export type RecordingHandlers = Pick<
  RequestHandlers<typeof conferenceRequestSchemas, ConferenceResponses>,
  RecordingRequestName
>;

export function recordingStateOf(session: Pick<Session, 'recordingAllowed'> | null): RecordingState {
  return { allowed: session?.recordingAllowed ?? false, active: false };
}

export function recordingHandlers(deps: ConferenceDependencies, seat: () => SessionSeat | null): RecordingHandlers {
  return {
    'recording:state': async () => recordingStateOf(await deps.sessions.get(requireSeat(seat()).sessionId)),
  };
}
