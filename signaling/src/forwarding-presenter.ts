import type { Logger } from 'pino';
import type { SfuClient } from './sfu-client.ts';

/**
 * Tells the SFU whose camera is the presenter's video now (the joint read's presenter, null for
 * nobody), so receivers' links give it bandwidth before everyone else's video (the SFU's
 * consumer priorities). Best effort: a failure costs forwarding order, never the call.
 */
export async function tellForwardingPresenter(
  sfu: SfuClient,
  log: Logger,
  sessionId: string,
  participantId: string | null,
): Promise<void> {
  await sfu
    .request('session:presenter', { sessionId, participantId })
    .catch((error: unknown) => log.warn({ err: error, sessionId }, 'could not tell the SFU the presenter'));
}
