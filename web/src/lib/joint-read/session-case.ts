/**
 * A case of the live session as the room shows it (the room page's `cases`): its studies to open
 * in the viewer or point to from the chat. The patient reference is null for readers who see the
 * case de-identified.
 */
export interface SessionCaseSummary {
  id: string;
  patientRef: string | null;
  summary: string;
  studyInstanceUids: string[];
}
