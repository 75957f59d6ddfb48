import { createServer, type Server, type Socket } from 'node:net';
import dcmjsDimse from 'dcmjs-dimse';
import { SocketFlow } from './dimse-association.ts';
import { InstanceSink, type ReceivedInstance } from './dimse-instance-file.ts';
import {
  readAssociation,
  type AssociationReader,
  type DimseNetwork,
  type StoreRequest,
  type StoreStatus,
} from './dimse-association-reader.ts';
import type { InstanceIdentity } from './part10-identity.ts';

/**
 * The proxy's own storage SCP, where a PACS sends the instances of a C-MOVE. Associations are
 * accepted only from the one peer AE (the PACS) and only when addressed to our AE; every
 * C-STORE is received raw by the same reader as a C-GET's (dimse-association-reader.ts; in memory
 * up to a limit, a temp file beyond: dimse-instance-file.ts) and handed to the pending C-MOVE that
 * asked for it: by the Move Originator Message ID the PACS echoes (message IDs are unique per
 * SCP), else by its Study / Series / SOP Instance UIDs. Instances nobody asked for are dropped and
 * answered with a failure status. The C-STORE is answered as soon as the retrieve has queued the
 * instance, and only then: a consumer that is behind slows the PACS down.
 *
 * A plain net.Server around dcmjs-dimse's Scp rather than its Server: that one cannot bind an
 * address, nor report a port already in use to the caller.
 */

const { Scp, constants, responses } = dcmjsDimse;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason, Status, TransferSyntax } = constants;

type CEchoRequest = InstanceType<typeof dcmjsDimse.requests.CEchoRequest>;
type CEchoResponse = InstanceType<typeof dcmjsDimse.responses.CEchoResponse>;
type Association = InstanceType<typeof dcmjsDimse.association.Association>;

/** C-STORE failure for an instance no pending C-MOVE wants (PS3.4: 0xA7xx refused, 0xCxxx cannot understand). */
const UNWANTED_STATUS = 0xa700;
const VERIFICATION = '1.2.840.10008.1.1';
/** Storage SOP classes all live under this root (PS3.4 Annex B). */
const STORAGE_ROOT = '1.2.840.10008.5.1.4.1.1.';
/** Accepted syntaxes: the first the peer proposes among these is taken (it lists its choice first). */
const acceptedSyntaxes = new Set<string>([
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.JpegLossless,
  TransferSyntax.JpegBaseline,
  TransferSyntax.JpegLsLossless,
  TransferSyntax.JpegLsLossy,
  TransferSyntax.Jpeg2000Lossless,
  TransferSyntax.Jpeg2000Lossy,
  TransferSyntax.RleLossless,
]);

export interface MoveScope {
  studyInstanceUid: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
}

/** One received instance, handed to the retrieve that wants it. */
export interface MovedInstance {
  received: ReceivedInstance;
  sopInstanceUid: string;
  identity: InstanceIdentity;
}

/** A pending C-MOVE waiting for its instances. */
export interface MoveExpectation {
  scope: MoveScope;
  /** The C-MOVE request's Message ID and the AE that sent it (our calling AE). */
  messageId: number;
  originatorAet: string;
  /**
   * Takes the instance (it is the taker's from then on): nothing when the peer may send more at
   * once, else a promise resolving when it may.
   */
  take(instance: MovedInstance): Promise<void> | undefined;
}

export interface StorageScpOptions {
  host: string;
  port: number;
  /** Our AE title: associations called otherwise are rejected. */
  aet: string;
  /** The only calling AE accepted (the PACS). */
  peerAet: string;
  /** Where instances over `memoryLimitBytes` spill to (must exist when one arrives). */
  storeDirectory: string;
  memoryLimitBytes: number;
  timeoutMs: number;
}

interface Registered extends MoveExpectation {
  /** SOP Instance UIDs already taken: a second copy (e.g. from an abandoned move) is dropped. */
  taken: Set<string>;
}

function matches(scope: MoveScope, study: string | undefined, series: string | undefined, sop: string): boolean {
  if (study !== undefined && study !== scope.studyInstanceUid) return false;
  if (scope.seriesInstanceUid && series !== undefined && series !== scope.seriesInstanceUid) return false;
  if (scope.sopInstanceUid && sop !== scope.sopInstanceUid) return false;
  // Without the study UID (unreadable head) only a move naming the very instance may take it.
  return study !== undefined || scope.sopInstanceUid === sop;
}

export class StorageScp {
  readonly options: StorageScpOptions;
  private readonly server: Server;
  private readonly expectations = new Set<Registered>();
  private readonly associations = new Set<Socket>();
  private messageId = Math.floor(Math.random() * 60_000);

  private constructor(options: StorageScpOptions, server: Server) {
    this.options = options;
    this.server = server;
  }

  /** Starts listening; rejects when the port cannot be bound (e.g. already in use). */
  static async listen(options: StorageScpOptions): Promise<StorageScp> {
    const server = createServer();
    const scp = new StorageScp(options, server);
    server.on('connection', (socket) => scp.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Later server errors (e.g. EMFILE on accept) must not take the process down.
    server.on('error', () => undefined);
    return scp;
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  /** A Message ID for the next C-MOVE request, unique among those pending here. */
  nextMessageId(): number {
    for (;;) {
      this.messageId = (this.messageId % 65535) + 1;
      const id = this.messageId;
      if (![...this.expectations].some((expectation) => expectation.messageId === id)) return id;
    }
  }

  /** Registers a pending C-MOVE; the returned function unregisters it (later instances are refused). */
  expect(expectation: MoveExpectation): () => void {
    const registered: Registered = { ...expectation, taken: new Set() };
    this.expectations.add(registered);
    return () => this.expectations.delete(registered);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.associations) socket.destroy();
    await closed;
  }

  /** Whom a received instance is for, or undefined; marks it taken. */
  private route(request: StoreRequest, instance: MovedInstance): Registered | undefined {
    const originatorId = request.moveOriginatorMessageId ?? Number.NaN;
    const originatorAet = request.moveOriginatorAet ?? '';
    const { studyInstanceUid, seriesInstanceUid } = instance.identity;
    const candidates = [...this.expectations].filter((expectation) =>
      matches(expectation.scope, studyInstanceUid, seriesInstanceUid, instance.sopInstanceUid),
    );
    const byId = candidates.find(
      (expectation) =>
        expectation.messageId === originatorId && (!originatorAet || originatorAet === expectation.originatorAet),
    );
    // A PACS that echoes our C-MOVE's Message ID is taken at its word: an ID matching no pending
    // move marks a straggler of an abandoned one. Without an ID, the UIDs decide.
    const echoed =
      Number.isInteger(originatorId) &&
      originatorId > 0 &&
      candidates.some((expectation) => !originatorAet || originatorAet === expectation.originatorAet);
    if (echoed && !byId) return undefined;
    const target = byId ?? candidates.find((expectation) => !expectation.taken.has(instance.sopInstanceUid));
    if (!target || target.taken.has(instance.sopInstanceUid)) return undefined;
    target.taken.add(instance.sopInstanceUid);
    return target;
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.associations.add(socket);
    const scp = new StorageAssociation(socket, {
      connectTimeout: this.options.timeoutMs,
      associationTimeout: this.options.timeoutMs,
      pduTimeout: this.options.timeoutMs,
    });
    scp.owner = this;
    const flow = new SocketFlow();
    flow.socket = socket;
    // The Scp is a dcmjs-dimse Network: its own socket reading gives way to the reader's.
    const reader: AssociationReader = readAssociation(scp as unknown as DimseNetwork, {
      stores: {
        sink: (request) =>
          InstanceSink.forStore(request, {
            sourceAet: this.options.peerAet,
            memoryLimitBytes: this.options.memoryLimitBytes,
            spillDirectory: this.options.storeDirectory,
            flow,
          }),
        stored: (request, instance) => this.received(request, instance),
        lost: () => Status.ProcessingFailure,
      },
      failed: () => socket.destroy(),
    });
    scp.on('networkError', () => socket.destroy());
    socket.once('close', () => {
      this.associations.delete(socket);
      reader.abandon();
    });
  }

  /** An instance has arrived: routes it, gives the C-STORE status (at once when the taker has room). */
  private received(request: StoreRequest, received: ReceivedInstance): StoreStatus {
    const identity = received.identity();
    const instance = { received, sopInstanceUid: request.sopInstanceUid || identity.sopInstanceUid || '', identity };
    const target = this.route(request, instance);
    const refuse = () => {
      void received.discard().catch(() => undefined);
      return UNWANTED_STATUS;
    };
    if (!target) return refuse();
    try {
      const room = target.take(instance);
      return room ? room.then(() => Status.Success, refuse) : Status.Success;
    } catch {
      return refuse();
    }
  }
}

/**
 * One association from the PACS: negotiation, C-ECHO and release through dcmjs-dimse's Scp; its
 * C-STOREs never reach the library (see `accept`).
 */
class StorageAssociation extends Scp {
  owner: StorageScp | undefined;

  override associationRequested(association: Association): void {
    const owner = this.owner!;
    const calling = association.getCallingAeTitle().trim();
    const called = association.getCalledAeTitle().trim();
    if (calling !== owner.options.peerAet) {
      this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized);
      return;
    }
    if (called !== owner.options.aet) {
      this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized);
      return;
    }
    for (const proposed of association.getPresentationContexts()) {
      const context = association.getPresentationContext(proposed.id);
      const abstract = context.getAbstractSyntaxUid();
      if (abstract !== VERIFICATION && !abstract.startsWith(STORAGE_ROOT)) {
        context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
        continue;
      }
      const syntax = context.getTransferSyntaxUids().find((uid) => acceptedSyntaxes.has(uid));
      if (syntax) context.setResult(PresentationContextResult.Accept, syntax);
      else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
    }
    this.sendAssociationAccept();
  }

  override associationReleaseRequested(): void {
    this.sendAssociationReleaseResponse();
  }

  override cEchoRequest(request: CEchoRequest, callback: (response: CEchoResponse) => void): void {
    const response = responses.CEchoResponse.fromRequest(request);
    response.setStatus(Status.Success);
    callback(response);
  }

  override abort(): void {
    // The peer aborted: the socket closes, and the receiver drops what was still arriving.
  }
}
