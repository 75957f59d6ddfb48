import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishDomainEvent } from '@telemed/domain';
import {
  hangUp,
  joinSession,
  nextEvent,
  request,
  send,
  startConferenceTestSystem,
  type ConferenceTestSystem,
} from './conference-test-system.ts';

/** The recording consent guard as the rooms see it, with the change made on the other node's side. */
describe('recording consent in the call', () => {
  let system: ConferenceTestSystem;

  beforeAll(async () => {
    system = await startConferenceTestSystem({ signalingNodes: 2 });
  });
  afterAll(async () => {
    await system?.close();
  });

  it('says recording is not allowed unless the session allows it, and tells every room of a change', async () => {
    const session = await system.schedule({ startsInMs: -3600_000, endsInMs: 3600_000, invitedSiteIds: ['aoshima'] });
    const sato = await system.connect('sato', { node: 1 });
    expect(await send(sato, 'recording:state', {})).toMatchObject({ ok: false, error: { code: 'conflict' } });
    await joinSession(sato, session.id);
    expect(await request(sato, 'recording:state', {})).toEqual({ allowed: false, active: false });

    const told = nextEvent(sato, 'recording:state');
    await system.sessions.update(session.id, { recordingAllowed: true, allowDoubleBooking: true });
    await publishDomainEvent(system.redis, { type: 'session.updated', sessionId: session.id });
    expect(await told).toEqual({ allowed: true, active: false });
    expect(await request(sato, 'recording:state', {})).toEqual({ allowed: true, active: false });
    await hangUp(sato);
  });
});
