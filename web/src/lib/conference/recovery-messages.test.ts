import { describe, expect, it } from 'vitest';
import { participantLostMessage, recoveryMessages } from './recovery-messages.ts';

describe('recovery words', () => {
  it('name the participant who was lost, in both languages', () => {
    expect(participantLostMessage(recoveryMessages('ja'), '佐藤 花子')).toBe(
      '佐藤 花子さんは接続が途切れたため退出しました',
    );
    expect(participantLostMessage(recoveryMessages('en'), 'Hanako Sato')).toBe(
      'Hanako Sato left because their connection was lost',
    );
  });

  it('tell the user why they were rejoined', () => {
    expect(recoveryMessages('ja').rejoining).toBe('接続が長く途切れたため、いったん退出しました。再参加しています…');
    expect(recoveryMessages('en').rejoining).toContain('Rejoining');
  });
});
