import { z } from 'zod';
import {
  linkLevelSchema,
  participantSchema,
  producerInfoSchema,
  type LinkLevel,
  type ProducerInfo,
} from '@telemed/contract';
import { RedisStore, type RecordWarnings } from '@telemed/domain';

/**
 * Who is in each live session and what media they send, kept in Redis so that every signaling
 * node sees the same room. Keys: `conference:{sessionId}:participants` (hash participantId →
 * participant and its socket id), `…:producers` (hash producerId → producer), `…:speaker`.
 */

const participantsKey = (sessionId: string) => `conference:${sessionId}:participants`;
export const producersKey = (sessionId: string) => `conference:${sessionId}:producers`;
const speakerKey = (sessionId: string) => `conference:${sessionId}:speaker`;

const presenceSchema = z.object({
  participant: participantSchema,
  socketId: z.string(),
  /**
   * Set while the participant's socket is gone and its node waits for it to resume (UTC, ISO
   * 8601): its entry stays, and no other node takes it for presence a crashed node left behind
   * until the grace period is over.
   */
  suspendedAt: z.iso.datetime().optional(),
  /** How far the participant's link has given way, as it last announced (absent: `full`). */
  linkLevel: linkLevelSchema.optional(),
});
export type Presence = z.infer<typeof presenceSchema>;

/** Whether the entry is a suspended participant still within its grace period (see `suspend`). */
export function awaitsResume(presence: Presence, graceMs: number, now = Date.now()): boolean {
  return presence.suspendedAt !== undefined && now - Date.parse(presence.suspendedAt) < graceMs;
}

function parseAll<S extends z.ZodType>(
  values: Record<string, string>,
  schema: S,
  warnings: RecordWarnings,
  key: string,
): z.infer<S>[] {
  return Object.entries(values).flatMap(([field, value]) => {
    try {
      return [schema.parse(JSON.parse(value))];
    } catch (error) {
      warnings.warn({ key, field, err: error }, 'presence record does not parse; skipped');
      return [];
    }
  });
}

export class ConferencePresence extends RedisStore {
  async add(sessionId: string, presence: Presence): Promise<void> {
    await this.redis.hSet(participantsKey(sessionId), presence.participant.participantId, JSON.stringify(presence));
  }

  async participants(sessionId: string): Promise<Presence[]> {
    const key = participantsKey(sessionId);
    return parseAll(await this.redis.hGetAll(key), presenceSchema, this.warnings, key);
  }

  /** Marks the participant suspended (its socket dropped); false when it is not present any more. */
  async suspend(sessionId: string, participantId: string, at: Date): Promise<boolean> {
    return this.rewrite(sessionId, participantId, (presence) => ({ ...presence, suspendedAt: at.toISOString() }));
  }

  /** The participant continues on another socket, no longer suspended; false when it is not present any more. */
  async rebind(sessionId: string, participantId: string, socketId: string): Promise<boolean> {
    return this.rewrite(sessionId, participantId, ({ suspendedAt: _resumed, ...presence }) => ({
      ...presence,
      socketId,
    }));
  }

  /**
   * Records the participant's link level (told to those who join later). Returns the level it
   * had, or null when the participant is not present any more.
   */
  async setLinkLevel(sessionId: string, participantId: string, level: LinkLevel): Promise<LinkLevel | null> {
    let previous: LinkLevel | null = null;
    const present = await this.rewrite(sessionId, participantId, (presence) => {
      previous = presence.linkLevel ?? 'full';
      return { ...presence, linkLevel: level };
    });
    return present ? previous : null;
  }

  /**
   * Read, change, write: only the node that holds the participant writes its entry (others only
   * remove entries left behind), so no other writer can interleave.
   */
  private async rewrite(
    sessionId: string,
    participantId: string,
    change: (presence: Presence) => Presence,
  ): Promise<boolean> {
    const key = participantsKey(sessionId);
    const value = await this.redis.hGet(key, participantId);
    const parsed = value ? presenceSchema.safeParse(JSON.parse(value)) : null;
    if (!parsed?.success) return false;
    await this.redis.hSet(key, participantId, JSON.stringify(change(parsed.data)));
    return true;
  }

  /** Removes the participant and its producers; returns the producers removed. */
  async remove(sessionId: string, participantId: string): Promise<ProducerInfo[]> {
    const gone = (await this.producers(sessionId)).filter((producer) => producer.participantId === participantId);
    const transaction = this.redis.multi().hDel(participantsKey(sessionId), participantId);
    if (gone.length)
      transaction.hDel(
        producersKey(sessionId),
        gone.map((producer) => producer.producerId),
      );
    await transaction.exec();
    return gone;
  }

  async producers(sessionId: string): Promise<ProducerInfo[]> {
    const key = producersKey(sessionId);
    return parseAll(await this.redis.hGetAll(key), producerInfoSchema, this.warnings, key);
  }

  async producer(sessionId: string, producerId: string): Promise<ProducerInfo | null> {
    const value = await this.redis.hGet(producersKey(sessionId), producerId);
    const parsed = value ? producerInfoSchema.safeParse(JSON.parse(value)) : null;
    return parsed?.success ? parsed.data : null;
  }

  async putProducer(sessionId: string, producer: ProducerInfo): Promise<void> {
    await this.redis.hSet(producersKey(sessionId), producer.producerId, JSON.stringify(producer));
  }

  /** Removes the producer; returns it, or null when it was not there. */
  async removeProducer(sessionId: string, producerId: string): Promise<ProducerInfo | null> {
    const producer = await this.producer(sessionId, producerId);
    if (producer) await this.redis.hDel(producersKey(sessionId), producerId);
    return producer;
  }

  async setActiveSpeaker(sessionId: string, participantId: string | null): Promise<void> {
    if (participantId) await this.redis.set(speakerKey(sessionId), participantId);
    else await this.redis.del(speakerKey(sessionId));
  }

  async activeSpeaker(sessionId: string): Promise<string | null> {
    return this.redis.get(speakerKey(sessionId));
  }
}
