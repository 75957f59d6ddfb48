import type { RecordingState } from '@telemed/contract';
import { defineMessages } from '#lib/i18n.ts';

/** The words of the room's recording banner. */
export const recordingConsentMessages = defineMessages(
  {
    recording: '録画中',
    recordingDetail: 'このカンファレンスは録画されています。',
    allowed: 'このカンファレンスは録画が許可されています（現在は録画していません）。',
    notAllowed: 'このカンファレンスは録画が許可されていません。',
  },
  {
    recording: 'Recording',
    recordingDetail: 'This conference is being recorded.',
    allowed: 'Recording is allowed in this conference (nothing is being recorded now).',
    notAllowed: 'Recording is not allowed in this conference.',
  },
);

export type RecordingTone = 'recording' | 'allowed' | 'not-allowed';

/**
 * What the banner shows. A recording running is always shown as such — even one the session
 * does not allow (which must never happen): the banner never hides a recording.
 */
export function recordingNotice(
  words: ReturnType<typeof recordingConsentMessages>,
  state: RecordingState,
): { tone: RecordingTone; text: string } {
  if (state.active) return { tone: 'recording', text: `${words.recording}: ${words.recordingDetail}` };
  return state.allowed ? { tone: 'allowed', text: words.allowed } : { tone: 'not-allowed', text: words.notAllowed };
}
