import { z } from 'zod';

/**
 * The stored shape of the domain's records. Every record read back from Redis is parsed with
 * these schemas, so a damaged record is reported and skipped instead of crashing a service.
 */

export const siteIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lowercase letters, digits and -');

export const siteKinds = ['hub', 'hospital', 'clinic', 'care-facility'] as const;

export const siteSchema = z.object({
  id: siteIdSchema,
  nameJa: z.string().min(1).max(100),
  nameEn: z.string().min(1).max(100),
  kind: z.enum(siteKinds),
  /** e.g. a secondary medical area (二次医療圏). */
  region: z.string().max(100).default(''),
});
export type Site = z.infer<typeof siteSchema>;

export const roles = ['admin', 'coordinator', 'specialist', 'site-doctor', 'observer'] as const;
export type Role = (typeof roles)[number];

export const usernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{2,31}$/, '3–32 lowercase letters, digits, . _ -');

export const accountSchema = z.object({
  id: z.uuid(),
  username: usernameSchema,
  displayName: z.string().min(1).max(100),
  siteId: siteIdSchema,
  roles: z.array(z.enum(roles)).min(1),
  passwordHash: z.string().startsWith('scrypt$'),
  active: z.boolean(),
  createdAt: z.iso.datetime(),
});
export type Account = z.infer<typeof accountSchema>;

export const sessionStatuses = ['scheduled', 'live', 'ended', 'cancelled'] as const;

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
  status: z.enum(sessionStatuses),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Session = z.infer<typeof sessionSchema>;
