import { z } from 'zod';

/**
 * A site's network link as the coordinator knows it: a kind of link with typical capacities, or
 * capacities of its own. The call caps what the site sends and receives to it from the start
 * (before anything is measured), and the browser's measurements lower it further during the
 * call. Sites stored before link profiles existed read as `unrestricted`: nothing is capped.
 */

export const linkKinds = ['unrestricted', 'fibre', 'dsl', 'lte', 'satellite', 'custom'] as const;
export type LinkKind = (typeof linkKinds)[number];

/** Kbit/s a custom link carries one way: from a poor modem to beyond any call's needs. */
const kbpsSchema = z.int().min(64).max(1_000_000);

export const siteLinkProfileSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.enum(['unrestricted', 'fibre', 'dsl', 'lte', 'satellite']) }),
  z.strictObject({ kind: z.literal('custom'), upKbps: kbpsSchema, downKbps: kbpsSchema }),
]);
export type SiteLinkProfile = z.infer<typeof siteLinkProfileSchema>;

export const UNRESTRICTED_LINK: SiteLinkProfile = { kind: 'unrestricted' };

/** What a link carries each way, in kbit/s; null: no cap. */
export interface LinkCaps {
  upKbps: number | null;
  downKbps: number | null;
}

/**
 * The typical capacities of each kind, on the cautious side: GEO satellite and island LTE as the
 * project's link profiles emulate them (1 and 3 Mbit/s each way), rural ADSL with its thin uplink.
 * Fibre needs no cap.
 */
const TYPICAL_CAPS: Record<Exclude<LinkKind, 'custom'>, LinkCaps> = {
  unrestricted: { upKbps: null, downKbps: null },
  fibre: { upKbps: null, downKbps: null },
  dsl: { upKbps: 1_000, downKbps: 8_000 },
  lte: { upKbps: 3_000, downKbps: 3_000 },
  satellite: { upKbps: 1_000, downKbps: 1_000 },
};

export function linkCaps(profile: SiteLinkProfile): LinkCaps {
  if (profile.kind === 'custom') return { upKbps: profile.upKbps, downKbps: profile.downKbps };
  return TYPICAL_CAPS[profile.kind];
}
