import { z } from 'zod';
import { grantedStudyUidSchema } from './access-token.ts';
import { participantSchema } from './participant.ts';

/**
 * A session's chat as it crosses the socket: what a participant may send, and the messages
 * everyone receives (and late joiners read back). The browser checks a draft with the same rule
 * before sending, so its message names the problem; signaling refuses anything else.
 */

/** The longest message, in UTF-16 code units (a Japanese character is one). */
export const CHAT_TEXT_MAX_LENGTH = 1000;
/** A session's chat holds at most this many messages; after that, sending is refused (nothing is dropped). */
export const CHAT_MAX_MESSAGES_PER_SESSION = 2000;
/** One account sends at most `messages` in any `perMs` window of a session (a stuck key or a script). */
export const CHAT_RATE_LIMIT = { messages: 5, perMs: 10_000 } as const;
/** How many messages one history page holds (the newest on joining, older ones on request). */
export const CHAT_HISTORY_PAGE_SIZE = 100;

/**
 * Control characters (all but the line break), line and paragraph separators and the bidi
 * overrides and isolates, which can make a message display as something other than what it says.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point of this pattern
const REFUSED_CHARACTERS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

export type ChatTextProblem = 'empty' | 'too_long' | 'control_characters';

/** What is wrong with a draft (after trimming), or null when it may be sent. */
export function chatTextProblem(text: string): ChatTextProblem | null {
  const trimmed = text.trim();
  if (trimmed.length === 0) return 'empty';
  if (trimmed.length > CHAT_TEXT_MAX_LENGTH) return 'too_long';
  if (REFUSED_CHARACTERS.test(trimmed)) return 'control_characters';
  return null;
}

const problemMessages: Record<ChatTextProblem, string> = {
  empty: 'a message needs some text',
  too_long: `at most ${CHAT_TEXT_MAX_LENGTH} characters`,
  control_characters: 'control characters are not allowed',
};

/** A message's text: trimmed, 1–1000 characters, line breaks but no other control characters. */
export const chatTextSchema = z
  .string()
  .max(CHAT_TEXT_MAX_LENGTH * 4)
  .trim()
  .superRefine((text, context) => {
    const problem = chatTextProblem(text);
    if (problem) context.addIssue({ code: 'custom', message: problemMessages[problem], params: { problem } });
  });

/** One message as every participant sees it. Names are those at the time of sending. */
export const chatMessageSchema = participantSchema.omit({ joinedAt: true }).extend({
  /** 1, 2, 3… in the order the session's chat stored them. */
  seq: z.int().min(1),
  text: z.string().min(1).max(CHAT_TEXT_MAX_LENGTH),
  /** A study of the session's cases the message points to, or null. */
  studyInstanceUid: grantedStudyUidSchema.nullable(),
  /** UTC, ISO 8601. */
  sentAt: z.iso.datetime(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

export interface ChatHistoryPage {
  /** Oldest first. */
  messages: ChatMessage[];
  /** Whether older messages exist (ask with `beforeSeq` = the first one's seq). */
  hasEarlier: boolean;
}
