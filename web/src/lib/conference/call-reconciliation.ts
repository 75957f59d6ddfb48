import type { Participant, ProducerInfo } from '@telemed/contract';

/**
 * What changed in a call while this browser's socket was away: signaling's answer to
 * `session:resume` is the truth, what the browser still shows is compared with it. Tiles of
 * those still there stay as they are (same track, same element); only what is new is consumed
 * and only what is gone is dropped.
 */
export interface CallChanges {
  /** Participants no longer in the call: their tiles go. */
  goneParticipantIds: string[];
  /** Participants who came meanwhile: new tiles. */
  newParticipants: Participant[];
  /** Producers that closed meanwhile: their consumers close. */
  goneProducerIds: string[];
  /** Producers that started meanwhile: to consume. */
  newProducers: ProducerInfo[];
  /** Producers still there whose pause changed (mute, camera off). */
  pauseChanged: ProducerInfo[];
}

export function reconcileCall(
  shown: { participantIds: readonly string[]; producers: ReadonlyMap<string, ProducerInfo> },
  current: { participants: readonly Participant[]; producers: readonly ProducerInfo[] },
): CallChanges {
  const currentParticipantIds = new Set(current.participants.map((participant) => participant.participantId));
  const shownParticipantIds = new Set(shown.participantIds);
  const currentProducerIds = new Set(current.producers.map((producer) => producer.producerId));
  return {
    goneParticipantIds: shown.participantIds.filter((id) => !currentParticipantIds.has(id)),
    newParticipants: current.participants.filter((participant) => !shownParticipantIds.has(participant.participantId)),
    goneProducerIds: [...shown.producers.keys()].filter((id) => !currentProducerIds.has(id)),
    newProducers: current.producers.filter((producer) => !shown.producers.has(producer.producerId)),
    pauseChanged: current.producers.filter((producer) => {
      const known = shown.producers.get(producer.producerId);
      return known !== undefined && known.paused !== producer.paused;
    }),
  };
}
