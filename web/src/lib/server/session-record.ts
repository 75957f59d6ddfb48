import { z } from 'zod';
import { mayExportSessionRecord, type Session, type StoredChatMessage } from '@telemed/domain';
import { auditAs, type Actor } from './actor.ts';
import { webDomain } from './domain.ts';
import { sessionAllowing } from './session-scheduling.ts';
import { jstTimestamp, spreadsheetCsv } from './spreadsheet-csv.ts';

/**
 * A session's record as the host and whoever manages it download it, during the session or long
 * after: the session with its cases and consent references, and its whole chat. The chat is
 * patient-related, so every download is audited (who, which format, how many messages).
 */

export const sessionRecordQuerySchema = z.object({
  format: z.enum(['json', 'csv']).default('json').meta({ description: '`csv`: the chat alone, for spreadsheets' }),
});

export const chatCsvColumns = [
  'seq',
  'sent_at_utc',
  'sent_at_jst',
  'account_id',
  'display_name',
  'site_id',
  'site_name_ja',
  'site_name_en',
  'study_instance_uid',
  'text',
] as const;

/** The session and its chat, if the actor may export them (else 403, audited). */
export async function exportSessionRecord(
  actor: Actor,
  sessionId: string,
  format: 'json' | 'csv',
): Promise<{ session: Session; chat: StoredChatMessage[] }> {
  const action = 'session.record-exported';
  const session = await sessionAllowing(
    actor,
    sessionId,
    action,
    mayExportSessionRecord,
    'only the host and whoever manages the session may export its record',
  );
  const chat = await (await webDomain()).chat.all(sessionId);
  await auditAs(actor, {
    action,
    outcome: 'success',
    sessionId,
    target: `session:${sessionId}`,
    detail: { format, chatMessages: chat.length },
  });
  return { session, chat };
}

/** The chat as CSV (see spreadsheet-csv.ts): one row per message, oldest first, times in UTC and in Japan time. */
export function chatCsv(messages: readonly StoredChatMessage[]): string {
  return spreadsheetCsv([
    [...chatCsvColumns],
    ...messages.map((message) => [
      String(message.seq),
      message.sentAt,
      jstTimestamp(message.sentAt),
      message.accountId,
      message.displayName,
      message.siteId,
      message.siteNameJa,
      message.siteNameEn,
      message.studyInstanceUid ?? '',
      message.text,
    ]),
  ]);
}
