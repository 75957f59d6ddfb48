import { sessionEndReasons } from '@telemed/contract';
import { describe, expect, it } from 'vitest';
import { languages } from '#lib/i18n.ts';
import { lobbyMessages, sessionEndMessage } from './lobby-messages.ts';

describe('waiting-room and end-of-call words', () => {
  it('say why a call ended, for every reason, in both languages and differently', () => {
    for (const language of languages) {
      const words = lobbyMessages(language);
      const said = sessionEndReasons.map((reason) => sessionEndMessage(words, reason));
      expect(said.every((text) => text.length > 0)).toBe(true);
      expect(new Set(said).size).toBe(sessionEndReasons.length);
    }
    expect(sessionEndMessage(lobbyMessages('ja'), 'cancelled')).toContain('中止');
    expect(sessionEndMessage(lobbyMessages('en'), 'cancelled')).toContain('cancelled');
  });
});
