/** What the schedule's forms hold, and show back after a refused submit. */

/** What the session form shows back after a refused submit. */
export interface SessionFormValues {
  title: string;
  description: string;
  date: string;
  startTime: string;
  endTime: string;
  hostAccountId: string;
  invitedSiteIds: string[];
  invitedAccountIds: string[];
  recordingAllowed: boolean;
  sequence?: string;
}

export interface CaseFormValues {
  patientRef: string;
  summary: string;
  studyInstanceUids: string;
  documentNumber: string;
  recordedBy: string;
  recordedAt: string;
  patientSiteId: string;
  deidentifyOutsidePatientSite: boolean;
}
