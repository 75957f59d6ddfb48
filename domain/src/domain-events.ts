import { z } from 'zod';
import type { RedisClient } from './redis.ts';

/**
 * Changes other services must act on at once, published on one Redis channel: signaling ends
 * the calls of a cancelled or ended session, drops a deactivated account's connections, tells a
 * waiting guest the host's decision, and tells a live session's participants of a new case.
 * Signaling nodes also carry the host's floor decisions to the node that holds the participant
 * (a removal, a mute). Pub/sub is fire-and-forget; the stored records stay the truth, and every
 * join (and the periodic re-check of open calls) checks them again.
 */
export const DOMAIN_EVENTS_CHANNEL = 'telemed:domain-events';

export const domainEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('session.updated'), sessionId: z.uuid() }),
  /** A case (its studies) was attached: the room's viewers list it at once. */
  z.object({ type: z.literal('session.case-attached'), sessionId: z.uuid() }),
  z.object({ type: z.literal('session.ended'), sessionId: z.uuid(), reason: z.string().max(100) }),
  z.object({ type: z.literal('session.cancelled'), sessionId: z.uuid() }),
  z.object({ type: z.literal('account.deactivated'), accountId: z.uuid() }),
  /** The host removed the account from the call (stored in `SessionAdmission`): its connections leave. */
  z.object({ type: z.literal('participant.removed'), sessionId: z.uuid(), accountId: z.uuid() }),
  /** The host muted the participant: the node holding it pauses its microphone and tells it. */
  z.object({ type: z.literal('participant.muted'), sessionId: z.uuid(), participantId: z.uuid() }),
]);
export type DomainEvent = z.infer<typeof domainEventSchema>;

export async function publishDomainEvent(redis: RedisClient, event: DomainEvent): Promise<void> {
  await redis.publish(DOMAIN_EVENTS_CHANNEL, JSON.stringify(domainEventSchema.parse(event)));
}

/**
 * Calls `onEvent` for every event; `subscriber` must be a connection of its own (subscribing
 * takes a Redis connection over). Malformed messages are reported and ignored.
 */
export async function subscribeDomainEvents(
  subscriber: RedisClient,
  onEvent: (event: DomainEvent) => void,
  onMalformed: (message: string) => void,
): Promise<void> {
  await subscriber.subscribe(DOMAIN_EVENTS_CHANNEL, (message) => {
    let data: unknown;
    try {
      data = JSON.parse(message);
    } catch {
      onMalformed(message);
      return;
    }
    const parsed = domainEventSchema.safeParse(data);
    if (parsed.success) onEvent(parsed.data);
    else onMalformed(message);
  });
}
