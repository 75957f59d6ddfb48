import { z } from 'zod';
import { UNRESTRICTED_LINK, siteLinkProfileSchema } from './site-link-profile.ts';

/**
 * The stored shape of the domain's records (schema version in `schema-version.ts`). Every
 * record read back from Redis is parsed with these schemas, so a damaged record is reported and
 * skipped instead of crashing a service. Fields added after version 1 carry defaults, so older
 * records parse unchanged.
 */

export const siteIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lowercase letters, digits and -');
export const siteKinds = ['hub', 'hospital', 'clinic', 'care-facility'] as const;
export type SiteKind = (typeof siteKinds)[number];

/** Who to call at a site about a conference (its IT desk or the doctors' office). */
export const siteContactSchema = z.object({
  person: z.string().trim().max(100).default(''),
  phone: z
    .string()
    .trim()
    .max(40)
    .regex(/^[0-9+()\- ]*$/, 'digits, spaces and + ( ) - only')
    .default(''),
  email: z.union([z.literal(''), z.email().max(200)]).default(''),
});
export type SiteContact = z.infer<typeof siteContactSchema>;

export const siteSchema = z.object({
  id: siteIdSchema,
  nameJa: z.string().trim().min(1).max(100),
  nameEn: z.string().trim().min(1).max(100),
  kind: z.enum(siteKinds),
  /** e.g. a secondary medical area (二次医療圏). */
  region: z.string().trim().max(100).default(''),
  contact: siteContactSchema.default({ person: '', phone: '', email: '' }),
  /** The site's network link (see site-link-profile.ts); sites stored before it read as unrestricted. */
  linkProfile: siteLinkProfileSchema.default(UNRESTRICTED_LINK),
});
export type Site = z.infer<typeof siteSchema>;
export type SiteInput = z.input<typeof siteSchema>;

export const roles = ['admin', 'coordinator', 'specialist', 'site-doctor', 'observer'] as const;
export type Role = (typeof roles)[number];

export const usernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{2,31}$/, '3–32 lowercase letters, digits, . _ -');

export const displayNameSchema = z.string().trim().min(1).max(100);

/** A TOTP second factor (RFC 6238, SHA-1, 6 digits, 30 s), once the account has confirmed it. */
export const totpFactorSchema = z.object({
  /** Base32 shared secret. */
  secret: z.string().regex(/^[A-Z2-7]{16,128}$/),
  enabledAt: z.iso.datetime(),
});

export const accountSchema = z.object({
  id: z.uuid(),
  username: usernameSchema,
  displayName: displayNameSchema,
  siteId: siteIdSchema,
  roles: z.array(z.enum(roles)).min(1),
  passwordHash: z.string().startsWith('scrypt$'),
  active: z.boolean(),
  /** Set when an admin resets the password: the account must choose a new one at sign-in. */
  mustChangePassword: z.boolean().default(false),
  totp: totpFactorSchema.nullable().default(null),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime().optional(),
});
export type Account = z.infer<typeof accountSchema>;

/** A DICOM UID (PS3.5 §9.1): dot-separated numbers without leading zeros, at most 64 characters. */
export const dicomUidSchema = z
  .string()
  .trim()
  .max(64)
  .regex(/^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/, 'a DICOM UID such as 1.2.392.200036.9116.2.6.1.48');

/** The consent under which a case's images may be shown to the other sites. */
export const consentReferenceSchema = z.object({
  /** The hospital's consent document number. */
  documentNumber: z.string().trim().min(1).max(64),
  /** Who recorded the consent (a person's name as written on the document). */
  recordedBy: z.string().trim().min(1).max(100),
  recordedAt: z.iso.datetime(),
});
export type ConsentReference = z.infer<typeof consentReferenceSchema>;

/** A case to be discussed in a session: which patient, which studies, under which consent. */
export const sessionCaseSchema = z.object({
  id: z.uuid(),
  /** The hospital's own patient reference (e.g. a pseudonymised ID), never a name. */
  patientRef: z.string().trim().min(1).max(64),
  /** A short label for the agenda, e.g. 「右下葉結節の経過」. */
  summary: z.string().trim().max(200).default(''),
  studyInstanceUids: z.array(dicomUidSchema).min(1).max(20),
  consent: consentReferenceSchema,
  /** The site where the patient is treated (its readers see the images as stored). */
  patientSiteId: siteIdSchema.nullable().default(null),
  /** Readers at other sites see the studies de-identified (PS3.15 basic profile). */
  deidentifyOutsidePatientSite: z.boolean().default(false),
  attachedByAccountId: z.uuid(),
  attachedAt: z.iso.datetime(),
});
export type SessionCase = z.infer<typeof sessionCaseSchema>;

export const sessionStatuses = ['scheduled', 'live', 'ended', 'cancelled'] as const;
export type SessionStatus = (typeof sessionStatuses)[number];

/** A scheduled case conference between sites. Times are UTC (ISO 8601). */
export const sessionSchema = z.object({
  id: z.uuid(),
  title: z.string().min(1).max(200),
  description: z.string().max(4000).default(''),
  startsAt: z.iso.datetime(),
  endsAt: z.iso.datetime(),
  hostAccountId: z.uuid(),
  invitedSiteIds: z.array(siteIdSchema),
  invitedAccountIds: z.array(z.uuid()),
  /**
   * What was decided: `scheduled` until someone ends or cancels it. Whether a scheduled session
   * is live right now follows from the clock (see `sessionPhase`).
   */
  status: z.enum(sessionStatuses),
  cases: z.array(sessionCaseSchema).default([]),
  /**
   * Whoever manages the session allows the call to be recorded (off unless someone turns it on).
   * Nothing records yet; when something does, it may only start with this on (`mayStartRecording`).
   */
  recordingAllowed: z.boolean().default(false),
  /** Bumped on every change; the iCalendar SEQUENCE and the optimistic-concurrency check. */
  sequence: z.number().int().nonnegative().default(0),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Session = z.infer<typeof sessionSchema>;
