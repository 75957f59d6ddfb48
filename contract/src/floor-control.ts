import { z } from 'zod';

/**
 * Floor control in a call: raised hands in the order they went up (first raised, first in the
 * queue), which every participant sees and the host works through. The host may lower a hand,
 * mute a participant's microphone (never unmute it: only its owner can) and remove a participant.
 */

export const raisedHandSchema = z.object({
  participantId: z.uuid(),
  /** When the hand went up (UTC, ISO 8601). */
  raisedAt: z.iso.datetime(),
});
export type RaisedHand = z.infer<typeof raisedHandSchema>;

export interface FloorSnapshot {
  /** First raised first. */
  hands: RaisedHand[];
  /** Whether this participant lowers others' hands, mutes and removes participants (the host). */
  mayControl: boolean;
}
