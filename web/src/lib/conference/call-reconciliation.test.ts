import { describe, expect, it } from 'vitest';
import type { Participant, ProducerInfo } from '@telemed/contract';
import { reconcileCall } from './call-reconciliation.ts';

const participant = (participantId: string): Participant => ({
  participantId,
  accountId: `account-${participantId}`,
  displayName: participantId,
  siteId: 'aoshima',
  siteNameJa: '青島町立病院',
  siteNameEn: 'Aoshima Town Hospital',
  joinedAt: '2026-12-06T08:00:00.000Z',
});
const producer = (producerId: string, participantId: string, paused = false): ProducerInfo => ({
  producerId,
  participantId,
  kind: 'audio',
  source: 'microphone',
  paused,
});
const ids = {
  a: '00000000-0000-4000-8000-00000000000a',
  b: '00000000-0000-4000-8000-00000000000b',
  c: '00000000-0000-4000-8000-00000000000c',
};

describe('reconciling a call after the socket came back', () => {
  it('keeps who stayed, adds who came, drops who went — for participants and producers', () => {
    const changes = reconcileCall(
      {
        participantIds: [ids.a, ids.b],
        producers: new Map([
          ['pa', producer('pa', ids.a)],
          ['pb', producer('pb', ids.b)],
        ]),
      },
      {
        participants: [participant(ids.a), participant(ids.c)],
        producers: [producer('pa', ids.a, true), producer('pc', ids.c)],
      },
    );
    expect(changes.goneParticipantIds).toEqual([ids.b]);
    expect(changes.newParticipants.map((one) => one.participantId)).toEqual([ids.c]);
    expect(changes.goneProducerIds).toEqual(['pb']);
    expect(changes.newProducers.map((one) => one.producerId)).toEqual(['pc']);
    expect(changes.pauseChanged.map((one) => [one.producerId, one.paused])).toEqual([['pa', true]]);
  });

  it('changes nothing when nothing changed', () => {
    const changes = reconcileCall(
      { participantIds: [ids.a], producers: new Map([['pa', producer('pa', ids.a)]]) },
      { participants: [participant(ids.a)], producers: [producer('pa', ids.a)] },
    );
    expect(Object.values(changes).every((list) => list.length === 0)).toBe(true);
  });
});
