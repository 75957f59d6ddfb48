import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_MAX_MESSAGES_PER_SESSION, CHAT_RATE_LIMIT, CHAT_TEXT_MAX_LENGTH } from '@telemed/contract';
import { chatKey, type Session } from '@telemed/domain';
import {
  hangUp,
  joinSession,
  nextEvent,
  request,
  send,
  startConferenceTestSystem,
  type ConferenceTestSystem,
} from './conference-test-system.ts';

/**
 * A session's chat across two signaling nodes (every message crosses the Redis adapter): kept
 * with the session, read back by late joiners, limited, typed refusals, and no text anywhere in
 * the audit trail.
 */

const HOUR = 3600_000;
const INJECTION = '<img src=x onerror="window.injected=1"><script>window.injected=2</script>';
const STUDY_UID = '1.2.392.200036.9116.2.6.1.48.1';

describe('chat across two signaling nodes', () => {
  let system: ConferenceTestSystem;

  beforeAll(async () => {
    system = await startConferenceTestSystem({ signalingNodes: 2 });
  });
  afterAll(async () => {
    await system?.close();
  });

  /** A session live now, hosted by tanaka, with Aoshima and Kuroshio invited and one case. */
  async function liveSession(): Promise<Session> {
    const session = await system.schedule({
      startsInMs: -HOUR,
      endsInMs: HOUR,
      invitedSiteIds: ['aoshima', 'kuroshio'],
    });
    await system.sessions.attachCase(
      session.id,
      {
        patientRef: 'AO-1',
        studyInstanceUids: [STUDY_UID],
        consent: { documentNumber: 'IC-1', recordedBy: '佐藤 花子', recordedAt: new Date().toISOString() },
      },
      { id: await system.accountId('tanaka') },
    );
    return session;
  }

  it('delivers a message to the other node, keeps it, and shows it to a late joiner', async () => {
    const session = await liveSession();
    const tanaka = await system.connect('tanaka', { node: 0 });
    const sato = await system.connect('sato', { node: 1 });
    await joinSession(tanaka, session.id);
    const satoSeat = await joinSession(sato, session.id);

    const received = nextEvent(tanaka, 'chat:message');
    const { message } = await request(sato, 'chat:send', { text: `  ${INJECTION}\n二行目  ` });
    expect(message).toMatchObject({
      seq: 1,
      text: `${INJECTION}\n二行目`,
      displayName: '佐藤 花子',
      siteNameJa: '青島町立病院',
      participantId: satoSeat.self.participantId,
      studyInstanceUid: null,
    });
    expect(await received).toEqual(message);
    const reply = nextEvent(sato, 'chat:message');
    await request(tanaka, 'chat:send', { text: '見えています', studyInstanceUid: STUDY_UID });
    expect(await reply).toMatchObject({ seq: 2, studyInstanceUid: STUDY_UID, displayName: '田中 一郎' });
    await request(sato, 'chat:send', { text: 'ありがとうございます' });

    // Someone joining late (on the other node) reads the whole conversation back.
    const suzuki = await system.connect('suzuki', { node: 0 });
    await joinSession(suzuki, session.id);
    const history = await request(suzuki, 'chat:history', {});
    expect(history.hasEarlier).toBe(false);
    expect(history.messages.map((one) => [one.seq, one.displayName, one.text])).toEqual([
      [1, '佐藤 花子', `${INJECTION}\n二行目`],
      [2, '田中 一郎', '見えています'],
      [3, '佐藤 花子', 'ありがとうございます'],
    ]);
    // So does a participant who dropped and came back: the chat outlives its calls.
    sato.close();
    const again = await system.connect('sato', { node: 0 });
    await joinSession(again, session.id);
    expect((await request(again, 'chat:history', {})).messages).toHaveLength(3);

    // One audit entry per writer, and never the words.
    const audit = (await system.recentAudit(100)).filter((entry) => entry.sessionId === session.id);
    const posted = audit.filter((entry) => entry.action === 'chat.posted');
    expect(posted.map((entry) => entry.actorAccountId).sort()).toEqual(
      [await system.accountId('sato'), await system.accountId('tanaka')].sort(),
    );
    expect(posted[0]).toMatchObject({ outcome: 'success', target: `session:${session.id}` });
    const everything = JSON.stringify(audit);
    for (const word of ['onerror', '見えています', '二行目', 'ありがとう']) expect(everything).not.toContain(word);
    await hangUp(tanaka, again, suzuki);
  });

  it('lets a message point only to a study of the session’s cases', async () => {
    const session = await liveSession();
    const sato = await system.connect('sato', { node: 1 });
    await joinSession(sato, session.id);
    expect(await send(sato, 'chat:send', { text: 'これ', studyInstanceUid: '1.2.392.999' })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    expect(await send(sato, 'chat:send', { text: 'これ', studyInstanceUid: '../../etc/passwd' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
    expect(await send(sato, 'chat:send', { text: 'これ', studyInstanceUid: STUDY_UID })).toMatchObject({ ok: true });
    await hangUp(sato);
  });

  it('answers bad text, a sender too fast and a full chat with typed errors', async () => {
    const session = await liveSession();
    const outside = await system.connect('suzuki', { node: 0 });
    expect(await send(outside, 'chat:send', { text: 'まだ参加していません' })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    outside.close();

    const sato = await system.connect('sato', { node: 1 });
    await joinSession(sato, session.id);
    for (const text of ['', '   ', 'あ'.repeat(CHAT_TEXT_MAX_LENGTH + 1), 'ベル\u0007', 'tab\tseparated', 'x\u202e']) {
      expect(await send(sato, 'chat:send', { text })).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    }
    expect(await request(sato, 'chat:history', {})).toEqual({ messages: [], hasEarlier: false });

    const burst = await Promise.all(
      Array.from({ length: CHAT_RATE_LIMIT.messages + 1 }, (_, index) =>
        send(sato, 'chat:send', { text: `連投 ${index}` }),
      ),
    );
    const refused = burst.filter((ack) => !ack.ok);
    expect(refused).toEqual([{ ok: false, error: { code: 'rate_limited', message: expect.any(String) } }]);
    expect(await system.redis.lLen(chatKey(session.id))).toBe(CHAT_RATE_LIMIT.messages);

    // A chat at its limit refuses more and keeps every message it has.
    const filler = JSON.stringify({
      participantId: randomUUID(),
      accountId: randomUUID(),
      displayName: '記録 係',
      siteId: 'aoshima',
      siteNameJa: '青島町立病院',
      siteNameEn: 'Aoshima Town Hospital',
      text: '.',
      studyInstanceUid: null,
      sentAt: new Date().toISOString(),
    });
    const missing = CHAT_MAX_MESSAGES_PER_SESSION - CHAT_RATE_LIMIT.messages;
    await system.redis.rPush(
      chatKey(session.id),
      Array.from({ length: missing }, () => filler),
    );
    const tanaka = await system.connect('tanaka', { node: 0 });
    await joinSession(tanaka, session.id);
    expect(await send(tanaka, 'chat:send', { text: 'もう一件' })).toMatchObject({
      ok: false,
      error: { code: 'limit_reached' },
    });
    expect(await system.redis.lLen(chatKey(session.id))).toBe(CHAT_MAX_MESSAGES_PER_SESSION);
    const newest = await request(tanaka, 'chat:history', {});
    expect(newest.hasEarlier).toBe(true);
    expect(newest.messages.at(-1)?.seq).toBe(CHAT_MAX_MESSAGES_PER_SESSION);
    const first = await request(tanaka, 'chat:history', { beforeSeq: 2 });
    expect(first.messages.map((one) => one.text)).toEqual([expect.stringMatching(/^連投 /)]);
    await hangUp(sato, tanaka);
  });
});
