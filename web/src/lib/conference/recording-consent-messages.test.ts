import { describe, expect, it } from 'vitest';
import { languages } from '#lib/i18n.ts';
import { chatPanelMessages, chatProblemMessage } from './chat-panel-messages.ts';
import type { ChatProblem } from './room-chat.svelte.ts';
import { recordingConsentMessages, recordingNotice } from './recording-consent-messages.ts';

describe('the room’s recording banner and chat notices', () => {
  it('shows a running recording as such, even one the session does not allow', () => {
    const ja = recordingConsentMessages('ja');
    expect(recordingNotice(ja, { allowed: false, active: false })).toEqual({
      tone: 'not-allowed',
      text: 'このカンファレンスは録画が許可されていません。',
    });
    expect(recordingNotice(ja, { allowed: true, active: false }).tone).toBe('allowed');
    expect(recordingNotice(ja, { allowed: true, active: true })).toMatchObject({ tone: 'recording' });
    expect(recordingNotice(ja, { allowed: true, active: true }).text).toContain('録画中');
    expect(recordingNotice(ja, { allowed: false, active: true }).tone).toBe('recording');
    expect(recordingNotice(recordingConsentMessages('en'), { allowed: false, active: true }).text).toContain(
      'Recording',
    );
  });

  it('says what went wrong with a chat message, for every problem, in both languages', () => {
    const problems: ChatProblem[] = [
      'empty',
      'too_long',
      'control_characters',
      'rate_limited',
      'limit_reached',
      'unknown_study',
      'failed',
      'history_failed',
    ];
    for (const language of languages) {
      const said = problems.map((problem) => chatProblemMessage(chatPanelMessages(language), problem));
      expect(new Set(said).size).toBe(problems.length);
    }
    expect(chatProblemMessage(chatPanelMessages('ja'), 'too_long')).toContain('1000文字');
  });
});
