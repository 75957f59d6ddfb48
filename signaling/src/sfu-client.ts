import type { Logger } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { ContractError, unwrapAck, type Ack } from '@telemed/contract';
import {
  SFU_RPC_PATH,
  type SfuClientEvents,
  type SfuNotifications,
  type SfuRequest,
  type SfuRequestName,
  type SfuResponses,
} from '@telemed/contract/sfu-rpc';

const REQUEST_TIMEOUT_MS = 10_000;

/** This signaling node's RPC connection to the SFU. */
export class SfuClient {
  readonly socket: Socket<SfuNotifications, SfuClientEvents>;
  private readonly logger: Logger;

  constructor(options: { url: string; secret: string; logger: Logger }) {
    this.logger = options.logger;
    this.socket = io(options.url, {
      path: SFU_RPC_PATH,
      transports: ['websocket'],
      auth: { secret: options.secret },
      reconnectionDelayMax: 2000,
    });
    this.socket.on('connect', () => this.logger.info({ url: options.url }, 'connected to SFU'));
    this.socket.on('disconnect', (reason) => this.logger.warn({ reason }, 'SFU connection lost'));
    this.socket.on('connect_error', (error) => this.logger.warn({ err: error }, 'cannot reach SFU'));
  }

  /** Resolves once connected (or rejects after `timeoutMs`). */
  async ready(timeoutMs = 15_000): Promise<void> {
    if (this.socket.connected) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('SFU not reachable')), timeoutMs);
      this.socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async request<N extends SfuRequestName>(name: N, payload: SfuRequest<N>): Promise<SfuResponses[N]> {
    if (!this.socket.connected) throw new ContractError('sfu_unavailable', 'media server unavailable');
    let ack: Ack<SfuResponses[N]>;
    try {
      // The mapped event type is too general for TypeScript to pick the overload; the
      // payload and response types are tied together by the contract's generic signature.
      const timed = this.socket.timeout(REQUEST_TIMEOUT_MS);
      const emit = timed.emitWithAck as (event: N, payload: SfuRequest<N>) => Promise<Ack<SfuResponses[N]>>;
      ack = await emit.call(timed, name, payload);
    } catch {
      throw new ContractError('sfu_unavailable', 'media server did not answer');
    }
    return unwrapAck(ack);
  }

  close(): void {
    this.socket.close();
  }
}
