import type { Socket } from 'node:net';
import dcmjsDimse from 'dcmjs-dimse';
import { SourceError } from './study-source.ts';
import { InstanceSink, type FlowControl, type ReceivedInstance } from './dimse-instance-file.ts';
import {
  readAssociation,
  type AssociationReader,
  type StoreHandler,
  type StoreRequest,
} from './dimse-association-reader.ts';

/**
 * One association to a DIMSE peer over dcmjs-dimse's Client, with the places where its public
 * API falls short hooked on the one Network object the Client creates per association:
 *  - `sendAssociationRequest`: add storage presentation contexts with the SCP role, one per
 *    (SOP class, transfer syntax) for compressed syntaxes (the Client copies neither the role nor
 *    the grouping of contexts added through `addAdditionalPresentationContext`);
 *  - the socket's reading (dimse-association-reader.ts): C-STOREs (C-GET sub-operations) are
 *    received there — data set bytes kept raw, never re-encoded, each answered as soon as it is
 *    complete and the consumer has room — and every other PDU is handed to the library;
 *  - TCP_NODELAY on the socket.
 * C-FIND identifiers are kept raw too (`rawDatasetBytes`), because dcmjs's naturalisation decodes
 * ISO 2022 text wrongly.
 */

const { Client, Dataset, Implementation, log } = dcmjsDimse;
const { Status } = dcmjsDimse.constants;
type DimseRequest = InstanceType<typeof dcmjsDimse.requests.CFindRequest | typeof dcmjsDimse.requests.CEchoRequest>;
type DimseDataset = InstanceType<typeof dcmjsDimse.Dataset>;
type DimseAssociationObject = InstanceType<typeof dcmjsDimse.association.Association>;

// dcmjs-dimse logs every PDU at info level and every error to the console; errors reach callers as SourceErrors.
log.setLevel('silent');
/** Large PDUs mean fewer PDU headers and reads per instance; dcmtk caps what it sends at 128 KiB. */
Implementation.setMaxPduLength(131072);

const rawDatasetBytes = new WeakMap<object, Buffer>();
{
  // The one global hook: Dataset parses received bytes in `_fromElementsBuffer`; remember them.
  const prototype = Dataset.prototype as unknown as {
    _fromElementsBuffer(this: object, buffer: Buffer, syntax: string, options: unknown): unknown;
  };
  const parse = prototype._fromElementsBuffer;
  prototype._fromElementsBuffer = function (buffer, syntax, options) {
    rawDatasetBytes.set(this, buffer);
    return parse.call(this, buffer, syntax, options);
  };
}

/** The bytes a received dataset was parsed from (undefined for datasets built locally). */
export function receivedDatasetBytes(dataset: DimseDataset | undefined): Buffer | undefined {
  return dataset ? rawDatasetBytes.get(dataset) : undefined;
}

export interface DimsePeer {
  sourceId: string;
  host: string;
  port: number;
  calledAet: string;
  callingAet: string;
  /** Connect, association and between-PDU limit. */
  timeoutMs: number;
}

/** Storage contexts (SCP role) a C-GET proposes: abstract syntax + transfer syntaxes of one context. */
export interface StorageContextProposal {
  sopClassUid: string;
  transferSyntaxUids: string[];
}

/** How incoming C-STOREs (C-GET sub-operations) are kept. */
export interface StoreSetting {
  /** Where instances over `memoryLimitBytes` spill to (must exist). */
  directory: string;
  memoryLimitBytes: number;
}

export interface AssociationOptions {
  peer: DimsePeer;
  requests: DimseRequest[];
  storageContexts?: StorageContextProposal[];
  /** Needed with `onInstance`. */
  store?: StoreSetting;
  /**
   * Takes the C-STOREs of this association (C-GET sub-operations): an instance has been received
   * completely. Return nothing to have the C-STORE answered at once, or a promise to answer when
   * it resolves (the peer sends no more meanwhile); a throw or rejection drops the association.
   */
  onInstance?: (request: StoreRequest, instance: ReceivedInstance) => Promise<void> | undefined;
  /** Message IDs for the requests (default 1, 2, … per association); C-MOVE routing needs unique ones. */
  nextMessageId?: () => number;
  signal?: AbortSignal;
}

export interface OpenAssociation {
  /** Resolves when the association is released after the last response; rejects with a SourceError. */
  finished: Promise<void>;
  flow: FlowControl;
  abort(): void;
  /** The socket's local port once connected (for tests counting associations). */
  readonly connected: boolean;
}

interface HookedNetwork {
  socket: Socket;
  association?: DimseAssociationObject;
  lastPduTime?: number;
  _processPdu(pdu: Buffer): Promise<void>;
  _getNextMessageId(): number;
  sendAssociationRequest(association: DimseAssociationObject): void;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Maps what dcmjs-dimse reports to the source error the front understands. */
export function networkErrorToSourceError(sourceId: string, error: unknown): SourceError {
  const message = describe(error);
  if (/timeout|ETIMEDOUT/i.test(message))
    return new SourceError(sourceId, 'timeout', `DIMSE peer did not answer: ${message}`, { cause: error });
  return new SourceError(sourceId, 'unavailable', `DIMSE peer unreachable: ${message}`, { cause: error });
}

/** Pauses the socket while any spill file (dimse-instance-file.ts) is behind; resumes when none is. */
export class SocketFlow implements FlowControl {
  private readonly holds = new Set<object>();
  socket: Socket | undefined;
  hold(reason: object): void {
    this.holds.add(reason);
    this.socket?.pause();
  }
  release(reason: object): void {
    if (!this.holds.delete(reason) || this.holds.size > 0) return;
    this.socket?.resume();
  }
}

export function openAssociation(options: AssociationOptions): OpenAssociation {
  const { peer, onInstance, store } = options;
  if (onInstance && !store) throw new Error('an association taking C-STOREs needs a store setting');
  const client = new Client();
  for (const request of options.requests) client.addRequest(request);
  const flow = new SocketFlow();
  let connected = false;
  let settle: { resolve: () => void; reject: (error: SourceError) => void } | undefined;
  const finished = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  let failure: SourceError | undefined;
  const fail = (error: SourceError) => {
    failure ??= error;
  };

  client.on('associationRejected', (reason: unknown) =>
    fail(new SourceError(peer.sourceId, 'refused', `DIMSE association rejected: ${JSON.stringify(reason)}`)),
  );
  client.on('networkError', (error: unknown) => {
    fail(networkErrorToSourceError(peer.sourceId, error));
    network.socket.destroy();
  });
  let sawAccept = false;
  // Our own limit on the handshake: dcmjs-dimse only ends (half-closes) the socket on its
  // association timeout, and a silent peer then never closes it.
  const handshakeTimer = setTimeout(() => {
    fail(new SourceError(peer.sourceId, 'timeout', `DIMSE peer did not accept within ${peer.timeoutMs} ms`));
    network.socket.destroy();
  }, peer.timeoutMs);
  client.on('associationAccepted', () => {
    sawAccept = true;
    clearTimeout(handshakeTimer);
  });
  client.on('closed', () => {
    clearTimeout(handshakeTimer);
    // Registered before the reader exists, called only after (the socket closes later).
    reader.abandon();
    if (!failure && !sawAccept) fail(new SourceError(peer.sourceId, 'unavailable', 'DIMSE peer closed the connection'));
    if (failure) settle?.reject(failure);
    else settle?.resolve();
  });

  client.send(peer.host, peer.port, peer.callingAet, peer.calledAet, {
    connectTimeout: peer.timeoutMs,
    associationTimeout: peer.timeoutMs,
    pduTimeout: peer.timeoutMs,
  });
  const network = (client as unknown as { network: HookedNetwork }).network;
  flow.socket = network.socket;
  network.socket.setNoDelay(true);
  network.socket.once('connect', () => (connected = true));
  if (options.nextMessageId) network._getNextMessageId = options.nextMessageId;

  const sendAssociationRequest = network.sendAssociationRequest.bind(network);
  network.sendAssociationRequest = (association) => {
    try {
      for (const proposal of options.storageContexts ?? []) {
        const id = association.addPresentationContext(proposal.sopClassUid);
        for (const syntax of proposal.transferSyntaxUids)
          association.addTransferSyntaxToPresentationContext(id, syntax);
        const context = association.getPresentationContext(id);
        context.setUserRole(false);
        context.setProviderRole(true);
      }
      sendAssociationRequest(association);
    } catch (error) {
      // Runs in a socket event: a throw here would take the process down.
      fail(new SourceError(peer.sourceId, 'unavailable', `could not propose the association: ${describe(error)}`));
      network.socket.destroy();
    }
  };

  const stores: StoreHandler | undefined =
    onInstance && store
      ? {
          sink: (request) =>
            InstanceSink.forStore(request, {
              sourceAet: peer.calledAet,
              memoryLimitBytes: store.memoryLimitBytes,
              spillDirectory: store.directory,
              flow,
            }),
          stored: (request, instance) => {
            const room = onInstance(request, instance);
            return room ? room.then(() => Status.Success) : Status.Success;
          },
          lost: (_request, error) => {
            // A C-GET missing an instance must not look complete: the whole retrieve fails.
            throw error;
          },
        }
      : undefined;
  const reader: AssociationReader = readAssociation(network, {
    ...(stores ? { stores } : {}),
    failed: (error) => {
      fail(new SourceError(peer.sourceId, 'unavailable', `unreadable DIMSE stream: ${describe(error)}`));
      network.socket.destroy();
    },
  });

  const abort = () => {
    fail(new SourceError(peer.sourceId, 'unavailable', 'retrieve abandoned'));
    reader.abandon();
    try {
      client.abort();
    } catch {
      // No network any more: nothing to abort.
    }
    network.socket.destroy();
  };
  options.signal?.addEventListener('abort', abort, { once: true });
  void finished.then(
    () => options.signal?.removeEventListener('abort', abort),
    () => options.signal?.removeEventListener('abort', abort),
  );

  return {
    finished,
    flow,
    abort,
    get connected() {
      return connected;
    },
  };
}

export type { DimseRequest, DimseDataset };
