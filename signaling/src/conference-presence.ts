import { z } from 'zod';
import { participantSchema, producerInfoSchema, type ProducerInfo } from '@telemed/contract';
import { RedisStore, type RecordWarnings } from '@telemed/domain';

/**
 * Who is in each live session and what media they send, kept in Redis so that every signaling
 * node sees the same room. Keys: `conference:{sessionId}:participants` (hash participantId →
 * participant and its socket id), `…:producers` (hash producerId → producer), `…:speaker`.
 */

const participantsKey = (sessionId: string) => `conference:${sessionId}:participants`;
export const producersKey = (sessionId: string) => `conference:${sessionId}:producers`;
const speakerKey = (sessionId: string) => `conference:${sessionId}:speaker`;

const presenceSchema = z.object({ participant: participantSchema, socketId: z.string() });
export type Presence = z.infer<typeof presenceSchema>;

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
