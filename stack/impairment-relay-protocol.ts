import { z } from 'zod';

/**
 * What the link lab says to its impairment relay process (stack/impairment-relay-main.ts) and
 * what it answers, one JSON object a line over the process's stdin and stdout. The relay runs in
 * the lab's client network namespace (`ip netns exec`), so it is a process of its own; the lab
 * drives it from the test. Both ends parse with these schemas.
 */

const probability = z.number().min(0).max(1);

export const linkProfileSchema = z.object({
  name: z.string().min(1),
  bitsPerSecond: z.number().positive().optional(),
  roundTripMs: z.number().min(0),
  jitterMs: z.number().min(0).optional(),
  loss: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('random'), probability }),
      z.object({
        kind: z.literal('gilbert-elliott'),
        goodToBad: probability,
        badToGood: probability,
        lossInBad: probability,
        lossInGood: probability.optional(),
      }),
    ])
    .optional(),
  queueMs: z.number().positive().optional(),
});

export const relayForwardSchema = z.object({
  protocol: z.enum(['tcp', 'udp']),
  listenPort: z.number().int().min(1).max(65535),
  target: z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }),
});

/** The relay's start settings, given as its one command-line argument. */
export const relaySettingsSchema = z.object({
  listenHost: z.string().default('127.0.0.1'),
  forwards: z.array(relayForwardSchema).min(1),
  profile: linkProfileSchema,
  /** Seeds the loss and jitter, so a run's pattern can be repeated. */
  seed: z.number().int().optional(),
});
export type RelaySettings = z.input<typeof relaySettingsSchema>;

export const relayCommandSchema = z.discriminatedUnion('command', [
  z.object({ id: z.number().int(), command: z.literal('reshape'), profile: linkProfileSchema }),
  z.object({ id: z.number().int(), command: z.literal('link'), down: z.boolean() }),
  z.object({ id: z.number().int(), command: z.literal('stats') }),
]);
export type RelayCommand = z.infer<typeof relayCommandSchema>;

const countersSchema = z.object({
  packets: z.number(),
  bytes: z.number(),
  dropped: z.object({ loss: z.number(), 'queue-full': z.number(), 'link-down': z.number() }),
});

export const relayStatsSchema = z.object({
  up: countersSchema,
  down: countersSchema,
  tcpConnections: z.number(),
  udpPeers: z.number(),
  linkDown: z.boolean(),
});

export const relayReplySchema = z.discriminatedUnion('reply', [
  z.object({ reply: z.literal('ready') }),
  z.object({ reply: z.literal('done'), id: z.number().int(), stats: relayStatsSchema.optional() }),
  z.object({ reply: z.literal('error'), id: z.number().int().optional(), message: z.string() }),
]);
export type RelayReply = z.infer<typeof relayReplySchema>;
