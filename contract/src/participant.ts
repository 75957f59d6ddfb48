import { z } from 'zod';

/** One person's presence in a live session, as every other participant sees it. */
export const participantSchema = z.object({
  participantId: z.uuid(),
  accountId: z.string().min(1).max(64),
  displayName: z.string().min(1).max(100),
  siteId: z.string().min(1).max(64),
  siteNameJa: z.string().min(1).max(100),
  siteNameEn: z.string().min(1).max(100),
  /** UTC, ISO 8601. */
  joinedAt: z.iso.datetime(),
});
export type Participant = z.infer<typeof participantSchema>;
