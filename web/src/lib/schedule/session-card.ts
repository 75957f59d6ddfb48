import type { SessionStatus } from '@telemed/domain';

/** What a list or calendar shows of a session. */
export interface SessionCard {
  id: string;
  title: string;
  description: string;
  startsAt: string;
  endsAt: string;
  status: SessionStatus;
  hostName: string;
  sites: { id: string; ja: string; en: string }[];
  caseCount: number;
}
