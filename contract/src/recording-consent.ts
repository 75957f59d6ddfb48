/**
 * The recording consent guard. Nothing records a call yet; when something does, it may only
 * start in a session whose managers allowed recording (`mayStartRecording` in the domain's
 * access policy), and every participant's room shows a red "recording" banner for as long as it
 * runs. Signaling sends this state on joining and whenever it changes; the room renders the
 * banner from it alone.
 */
export interface RecordingState {
  /** Whoever manages the session allowed recording (session form or REST API, audited). */
  allowed: boolean;
  /** Something records the call right now; never true unless `allowed`. */
  active: boolean;
}
