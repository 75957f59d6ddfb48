import { describe, expect, it } from 'vitest';
import { CHAT_TEXT_MAX_LENGTH, chatTextProblem, chatTextSchema } from './chat.ts';
import { conferenceRequestSchemas } from './conference-events.ts';

describe('what a chat message may say', () => {
  it('takes Japanese text, line breaks and markup-looking text as plain text, trimmed', () => {
    expect(chatTextSchema.parse('  右下葉の結節、前回より増大\n造影CTを推奨します  ')).toBe(
      '右下葉の結節、前回より増大\n造影CTを推奨します',
    );
    for (const text of ['<img src=x onerror=alert(1)>', '<script>alert(1)</script>', '🩺👍']) {
      expect(chatTextSchema.parse(text)).toBe(text);
    }
    expect(chatTextSchema.parse('あ'.repeat(CHAT_TEXT_MAX_LENGTH))).toHaveLength(CHAT_TEXT_MAX_LENGTH);
  });

  it('names what is wrong with a draft, and the schema refuses the same', () => {
    const cases: [string, string][] = [
      ['', 'empty'],
      [' \n\n ', 'empty'],
      ['あ'.repeat(CHAT_TEXT_MAX_LENGTH + 1), 'too_long'],
      ['bell\u0007', 'control_characters'],
      ['tab\there', 'control_characters'],
      ['carriage\rreturn', 'control_characters'],
      ['reversed \u202egnp.exe', 'control_characters'],
      ['escape \u001b[31m', 'control_characters'],
    ];
    for (const [text, problem] of cases) {
      expect(chatTextProblem(text)).toBe(problem);
      expect(chatTextSchema.safeParse(text).success).toBe(false);
    }
    expect(chatTextProblem('ok')).toBeNull();
    expect(chatTextSchema.safeParse('x'.repeat(100_000)).success).toBe(false);
  });

  it('takes a study reference only as a DICOM UID, and nothing else besides the text', () => {
    const send = conferenceRequestSchemas['chat:send'];
    expect(send.safeParse({ text: 'この検査', studyInstanceUid: '1.2.392.200036.9116' }).success).toBe(true);
    expect(send.safeParse({ text: 'この検査', studyInstanceUid: 'javascript:alert(1)' }).success).toBe(false);
    expect(send.safeParse({ text: 'x', html: '<b>x</b>' }).success).toBe(false);
  });
});
