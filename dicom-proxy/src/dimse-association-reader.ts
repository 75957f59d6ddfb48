import type { Socket } from 'node:net';
import type dcmjsDimse from 'dcmjs-dimse';
import {
  CommandElement,
  CommandField,
  CommandSet,
  MAX_COMMAND_SET_BYTES,
  cStoreResponseCommand,
  pDataTfPdu,
} from './dimse-command-set.ts';
import type { InstanceSink, ReceivedInstance } from './dimse-instance-file.ts';
import { DimseProtocolError, PduReader, type PdvHeader } from './dimse-pdu-reader.ts';

/**
 * Reads an association's socket in place of dcmjs-dimse, which keeps everything but the hot path
 * of a retrieve: association negotiation, C-ECHO / C-FIND / C-GET / C-MOVE requests and their
 * final responses, release and abort still go through it, as the very PDUs it would have
 * assembled itself (its `_processPdu`). Two kinds of message never reach it:
 *  - C-STORE requests, when `stores` is given (C-GET sub-operations on the proxy's own
 *    association, a PACS's C-MOVE sub-operations at the storage SCP): the data set goes from the
 *    socket chunks to an InstanceSink as views (no copy, never re-encoded), and the C-STORE
 *    response is written here as soon as the data set is complete and the consumer has room;
 *  - pending C-GET / C-MOVE responses without a data set (one per sub-operation, carrying only
 *    sub-operation counts, which the source does not use): dcmjs decodes each through its
 *    dataset parser, measured at ~1.5 ms a response, several times the cost of receiving a
 *    512×512 CT instance.
 *
 * Why by hand: dcmjs-dimse 0.3.3 re-assembles every PDU by concatenating socket chunks, copies
 * each PDV again, decodes every command through dcmjs, dispatches each PDU through an async event
 * emitter, and answers a C-STORE only once its store stream hook has called back. Measured with
 * bench/dicom/dimse-retrieve.ts, that path stayed at 0.3–0.4× DCMTK's getscu even with the
 * instances kept in memory and each C-STORE answered at once. No library does better:
 * dicom-dimse-native (DCMTK bindings) does not build offline, and dcmjs-dimse buffers and
 * re-encodes.
 */

type DimseAssociation = InstanceType<typeof dcmjsDimse.association.Association>;

/** The parts of dcmjs-dimse's Network (a Client's, or an Scp) this takes over or feeds. */
export interface DimseNetwork {
  socket: Socket;
  association?: DimseAssociation;
  /** Read by the library's PDU timeout. */
  lastPduTime?: number;
  _processPdu(pdu: Buffer): Promise<void>;
}

/** A C-STORE request as its command set says, with the transfer syntax of its context. */
export interface StoreRequest {
  presentationContextId: number;
  messageId: number;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** Set by a PACS performing a C-MOVE: whose move this instance belongs to. */
  moveOriginatorAet?: string;
  moveOriginatorMessageId?: number;
}

/** A C-STORE status, known at once or later. */
export type StoreStatus = number | Promise<number>;

export interface StoreHandler {
  /** Where the data set of a C-STORE goes while it arrives. */
  sink(request: StoreRequest): InstanceSink;
  /**
   * The data set is complete: the status to answer. A peer sends its next C-STORE only after
   * the answer, so a status given at once lets it go on at once (the response is written before
   * the consumer runs), and a late one is how a consumer that is behind makes the PACS wait.
   * Called in arrival order; a throw (or rejection) drops the association.
   */
  stored(request: StoreRequest, instance: ReceivedInstance): StoreStatus;
  /** The instance could not be kept (its spill file failed): the status to answer, or throw. */
  lost(request: StoreRequest, error: Error): StoreStatus;
}

export interface AssociationReaderOptions {
  /** Takes the association's C-STORE requests; without it they go to dcmjs-dimse like the rest. */
  stores?: StoreHandler;
  /** The stream could not be read, or `stored` failed: the association is to be dropped. */
  failed(error: Error): void;
}

export interface AssociationReader {
  /** The association is gone: drops the data sets still arriving. */
  abandon(): void;
}

const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
const ACCEPTED = 0;
const PENDING = 0xff00;

/** A C-GET / C-MOVE response saying only that sub-operations are still under way. */
function isPendingRetrieveResponse(command: CommandSet): boolean {
  const field = command.commandField;
  return (
    (field === CommandField.cGetResponse || field === CommandField.cMoveResponse) &&
    !command.hasDataSet &&
    command.number(CommandElement.status) === PENDING
  );
}

function storeRequest(network: DimseNetwork, pdv: PdvHeader, command: CommandSet): StoreRequest {
  const id = pdv.presentationContextId;
  let context: ReturnType<DimseAssociation['getPresentationContext']> | undefined;
  try {
    context = network.association?.getPresentationContext(id);
  } catch {
    context = undefined;
  }
  if (!context || context.getResult() !== ACCEPTED) {
    throw new DimseProtocolError(`C-STORE on presentation context ${id}, which was not accepted`);
  }
  const request: StoreRequest = {
    presentationContextId: id,
    messageId: command.number(CommandElement.messageId) ?? 0,
    sopClassUid: command.text(CommandElement.affectedSopClassUid) ?? context.getAbstractSyntaxUid(),
    sopInstanceUid: command.text(CommandElement.affectedSopInstanceUid) ?? '',
    transferSyntaxUid: context.getAcceptedTransferSyntaxUid() ?? IMPLICIT_VR_LITTLE_ENDIAN,
  };
  const originatorAet = command.text(CommandElement.moveOriginatorAet);
  const originatorId = command.number(CommandElement.moveOriginatorMessageId);
  if (originatorAet) request.moveOriginatorAet = originatorAet;
  if (originatorId !== undefined) request.moveOriginatorMessageId = originatorId;
  return request;
}

/** Takes over the network's socket reading; call right after the Network is made. */
export function readAssociation(network: DimseNetwork, options: AssociationReaderOptions): AssociationReader {
  const { stores } = options;
  const { socket } = network;
  const sinks = new Set<InstanceSink>();
  let command: Buffer[] = [];
  let commandBytes = 0;
  /** The C-STORE whose data set is arriving, if the message in progress is one. */
  let store: { request: StoreRequest; sink: InstanceSink } | undefined;
  /** Fragments of the current PDV of a message dcmjs-dimse handles. */
  let passing: Buffer[] = [];
  let broken = false;

  const pass = (pdu: Buffer) => {
    // dcmjs-dimse reports its own failures as 'networkError'.
    void network._processPdu(pdu).catch(() => undefined);
  };

  const answer = (request: StoreRequest, status: number) => {
    if (socket.destroyed || !socket.writable) return;
    const response = cStoreResponseCommand({
      sopClassUid: request.sopClassUid,
      sopInstanceUid: request.sopInstanceUid,
      messageIdBeingRespondedTo: request.messageId,
      status,
    });
    socket.write(pDataTfPdu(request.presentationContextId, true, true, response));
  };

  const fail = (error: Error) => {
    if (broken) return;
    broken = true;
    options.failed(error);
  };

  const commandEnded = (pdv: PdvHeader) => {
    const bytes = command.length === 1 ? command[0]! : Buffer.concat(command, commandBytes);
    command = [];
    commandBytes = 0;
    let parsed: CommandSet | undefined;
    try {
      parsed = CommandSet.read(bytes);
    } catch {
      parsed = undefined; // dcmjs-dimse reports it
    }
    if (stores && parsed?.commandField === CommandField.cStoreRequest && parsed.hasDataSet) {
      const request = storeRequest(network, pdv, parsed);
      const sink = stores.sink(request);
      sinks.add(sink);
      store = { request, sink };
      return;
    }
    if (parsed && isPendingRetrieveResponse(parsed)) return;
    pass(pDataTfPdu(pdv.presentationContextId, true, true, bytes));
  };

  const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

  const settle = (request: StoreRequest, status: () => StoreStatus) => {
    let result: StoreStatus;
    try {
      result = status();
    } catch (error) {
      fail(asError(error));
      return;
    }
    if (typeof result === 'number') answer(request, result);
    else
      result.then(
        (value) => answer(request, value),
        (error: unknown) => fail(asError(error)),
      );
  };

  const storeEnded = () => {
    const { request, sink } = store!;
    store = undefined;
    // From here the instance is the handler's (a spill file included): never abandoned here.
    sinks.delete(sink);
    const kept = sink.end();
    if (!(kept instanceof Promise)) {
      settle(request, () => stores!.stored(request, kept));
      return;
    }
    kept.then(
      (instance) => settle(request, () => stores!.stored(request, instance)),
      (error: unknown) => settle(request, () => stores!.lost(request, asError(error))),
    );
  };

  const reader = new PduReader({
    pduStarted: () => (network.lastPduTime = Date.now()),
    otherPdu: pass,
    pdvBytes: (pdv, bytes) => {
      if (pdv.command) {
        commandBytes += bytes.length;
        if (commandBytes > MAX_COMMAND_SET_BYTES)
          throw new DimseProtocolError(`a command set over ${commandBytes} bytes`);
        command.push(bytes);
      } else if (store) store.sink.write(bytes);
      else passing.push(bytes);
    },
    pdvEnd: (pdv) => {
      if (pdv.command) {
        if (pdv.last) commandEnded(pdv);
        return;
      }
      if (store) {
        if (pdv.last) storeEnded();
        return;
      }
      const value = passing.length === 1 ? passing[0]! : Buffer.concat(passing);
      passing = [];
      pass(pDataTfPdu(pdv.presentationContextId, false, pdv.last, value));
    },
  });

  // dcmjs-dimse's Network reads the socket through its one 'data' listener: this one replaces it.
  socket.removeAllListeners('data');
  socket.on('data', (chunk: Buffer) => {
    if (broken) return;
    try {
      reader.push(chunk);
    } catch (error) {
      fail(asError(error));
    }
  });

  return {
    abandon() {
      broken = true; // nothing more is read
      for (const sink of sinks) sink.abandon();
      sinks.clear();
      store = undefined;
    },
  };
}
