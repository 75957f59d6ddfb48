// The subpath alone: the package root loads all of date-fns (~290 MB resident in every service).
import { fromZonedTime } from 'date-fns-tz/fromZonedTime';
import { z } from 'zod';
import { consentReferenceSchema, dicomUidSchema, siteIdSchema } from './records.ts';

/**
 * What coordinators (through the forms or the REST API) send to schedule a session or attach a
 * case. Times come either as ISO 8601 with an offset (`2026-12-01T10:00:00+09:00`, `…Z`) or as
 * a local wall time (`2026-12-01T10:00`) in `timeZone`, Japan time unless said otherwise.
 */

export const DEFAULT_TIME_ZONE = 'Asia/Tokyo';
/** A conference longer than this is certainly a typo (and keeps calendar range queries bounded). */
export const MAX_SESSION_HOURS = 12;

export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

export const timeZoneSchema = z
  .string()
  .trim()
  .max(64)
  .refine(isTimeZone, { message: 'an IANA time zone such as Asia/Tokyo', params: { code: 'bad_time_zone' } });

/** A moment, with offset or as local wall time (resolved later against the time zone). */
export const dateTimeInputSchema = z.union([z.iso.datetime({ offset: true }), z.iso.datetime({ local: true })], {
  error: 'a date and time such as 2026-12-01T10:00',
});

/** The UTC ISO instant of a date-time input in `timeZone`. */
export function toUtcInstant(value: string, timeZone: string): string {
  const hasOffset = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(value);
  return (hasOffset ? new Date(value) : fromZonedTime(value, timeZone)).toISOString();
}

const titleSchema = z.string().trim().min(1).max(200);
const descriptionSchema = z.string().trim().max(4000);
const invitedSitesSchema = z.array(siteIdSchema).max(30);
const invitedAccountsSchema = z.array(z.uuid()).max(100);

export const sessionDraftSchema = z.object({
  title: titleSchema,
  description: descriptionSchema.default(''),
  startsAt: dateTimeInputSchema,
  endsAt: dateTimeInputSchema,
  timeZone: timeZoneSchema.default(DEFAULT_TIME_ZONE),
  /** Defaults to the account scheduling it. */
  hostAccountId: z.uuid().optional(),
  invitedSiteIds: invitedSitesSchema.default([]),
  invitedAccountIds: invitedAccountsSchema.default([]),
  /** Whether the call may be recorded (see `Session.recordingAllowed`); off unless asked for. */
  recordingAllowed: z.boolean().default(false),
  /** Store it even though a site or account is already booked at that time. */
  allowDoubleBooking: z.boolean().default(false),
});
export type SessionDraft = z.input<typeof sessionDraftSchema>;

export const sessionPatchSchema = z.object({
  title: titleSchema.optional(),
  description: descriptionSchema.optional(),
  startsAt: dateTimeInputSchema.optional(),
  endsAt: dateTimeInputSchema.optional(),
  timeZone: timeZoneSchema.default(DEFAULT_TIME_ZONE),
  hostAccountId: z.uuid().optional(),
  invitedSiteIds: invitedSitesSchema.optional(),
  invitedAccountIds: invitedAccountsSchema.optional(),
  recordingAllowed: z.boolean().optional(),
  allowDoubleBooking: z.boolean().default(false),
  /** The `sequence` the editor saw; a newer stored one means someone else changed it meanwhile. */
  expectedSequence: z.number().int().nonnegative().optional(),
});
export type SessionPatch = z.input<typeof sessionPatchSchema>;

export const caseDraftSchema = z.object({
  patientRef: z.string().trim().min(1).max(64),
  summary: z.string().trim().max(200).default(''),
  studyInstanceUids: z.array(dicomUidSchema).min(1).max(20),
  consent: consentReferenceSchema.extend({ recordedAt: dateTimeInputSchema }),
  patientSiteId: siteIdSchema.nullable().default(null),
  deidentifyOutsidePatientSite: z.boolean().default(false),
  timeZone: timeZoneSchema.default(DEFAULT_TIME_ZONE),
});
export type CaseDraft = z.input<typeof caseDraftSchema>;
