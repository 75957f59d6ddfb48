import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dcmjsDimse from 'dcmjs-dimse';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CommandElement, CommandField, CommandSet, pDataTfPdu } from './dimse-command-set.ts';
import { InstanceSink, part10Header, type ReceivedInstance } from './dimse-instance-file.ts';
import { PduReader, PduType } from './dimse-pdu-reader.ts';
import {
  readAssociation,
  type AssociationReaderOptions,
  type DimseNetwork,
  type StoreHandler,
  type StoreRequest,
} from './dimse-association-reader.ts';

/**
 * The reader on a real loopback socket, the peer played by hand: C-STOREs are received and
 * answered here, every other PDU reaches the library as the bytes it would have read.
 */

const { Dataset } = dcmjsDimse;
const { CStoreRequest } = dcmjsDimse.requests;
const { CGetResponse } = dcmjsDimse.responses;
const CT = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const CONTEXT = 5;

function storeCommand(sop: string, messageId: number): Buffer {
  const request = new CStoreRequest(new Dataset({ SOPClassUID: CT, SOPInstanceUID: sop }));
  request.setMessageId(messageId);
  return request.getCommandDataset().getDenaturalizedCommandDataset();
}

function getResponse(status: number): Buffer {
  const response = new CGetResponse(status, '');
  response.setMessageIdBeingRespondedTo(1);
  return response.getCommandDataset().getDenaturalizedCommandDataset();
}

/** A presentation context table with one accepted context. */
const association = {
  getPresentationContext(id: number) {
    if (id !== CONTEXT) throw new Error(`Invalid presentation context ID: ${id}`);
    return {
      getResult: () => 0,
      getAbstractSyntaxUid: () => CT,
      getAcceptedTransferSyntaxUid: () => EXPLICIT_LE,
    };
  },
} as unknown as DimseNetwork['association'];

let dir: string;
let server: Server;
let sockets: Socket[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dimse-reader-test-'));
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterEach(() => {
  for (const socket of sockets) socket.destroy();
  sockets = [];
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

interface Pair {
  /** The peer's end: what it writes, the reader reads. */
  peer: Socket;
  passed: Buffer[];
  failures: Error[];
  /** C-STORE responses the peer received, decoded. */
  responses: CommandSet[];
  responded: Promise<void>;
}

/** A connected pair with the reader on our end; `expectedResponses` resolve `responded`. */
async function pair(stores: StoreHandler | undefined, expectedResponses = 0): Promise<Pair> {
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const peer = connect((server.address() as { port: number }).port, '127.0.0.1');
  const ours = await accepted;
  sockets.push(peer, ours);
  const passed: Buffer[] = [];
  const failures: Error[] = [];
  const responses: CommandSet[] = [];
  const network: DimseNetwork = {
    socket: ours,
    association,
    _processPdu: async (pdu) => void passed.push(pdu),
  };
  // What the library would have registered: the reader replaces it.
  ours.on('data', () => failures.push(new Error('the library read the socket')));
  const options: AssociationReaderOptions = { failed: (error) => failures.push(error) };
  if (stores) options.stores = stores;
  readAssociation(network, options);
  let command: Buffer[] = [];
  let done: () => void = () => undefined;
  const responded = new Promise<void>((resolve) => (done = resolve));
  if (expectedResponses === 0) done();
  const reader = new PduReader({
    pduStarted: () => undefined,
    otherPdu: () => undefined,
    pdvBytes: (_header, bytes) => command.push(Buffer.from(bytes)),
    pdvEnd: (header) => {
      if (!header.last) return;
      responses.push(CommandSet.read(Buffer.concat(command)));
      command = [];
      if (responses.length === expectedResponses) done();
    },
  });
  peer.on('data', (chunk: Buffer) => reader.push(chunk));
  return { peer, passed, failures, responses, responded };
}

function memorySink(request: StoreRequest, memoryLimitBytes = 1 << 20, spillDirectory = dir): InstanceSink {
  return new InstanceSink({
    fields: {
      sopClassUid: request.sopClassUid,
      sopInstanceUid: request.sopInstanceUid,
      transferSyntaxUid: request.transferSyntaxUid,
    },
    memoryLimitBytes,
    spillDirectory,
    flow: { hold: () => undefined, release: () => undefined },
  });
}

async function bodyOf(instance: ReceivedInstance): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of instance.open()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('readAssociation', () => {
  it('receives C-STOREs byte for byte, answers each, and passes everything else on', async () => {
    const stored: { request: StoreRequest; instance: ReceivedInstance }[] = [];
    const { peer, passed, failures, responses, responded } = await pair(
      {
        sink: (request) => memorySink(request),
        stored: (request, instance) => {
          stored.push({ request, instance });
          return 0x0000;
        },
        lost: () => 0x0110,
      },
      2,
    );
    const accept = Buffer.concat([Buffer.from([PduType.associateAccept, 0, 0, 0, 0, 4]), Buffer.from('ACAC')]);
    const first = Buffer.alloc(200_000, 3);
    const second = Buffer.from(Array.from({ length: 1001 }, (_, index) => index % 256));
    const finalResponse = pDataTfPdu(CONTEXT, true, true, getResponse(0x0000));
    peer.write(accept);
    peer.write(pDataTfPdu(CONTEXT, true, true, storeCommand('1.2.3.1', 11)));
    // Fragments across PDUs, as a PACS limited by our maximum PDU length sends them.
    for (let at = 0; at < first.length; at += 65_536) {
      peer.write(pDataTfPdu(CONTEXT, false, at + 65_536 >= first.length, first.subarray(at, at + 65_536)));
    }
    peer.write(pDataTfPdu(CONTEXT, true, true, getResponse(0xff00))); // pending: dropped
    peer.write(pDataTfPdu(CONTEXT, true, true, storeCommand('1.2.3.2', 12)));
    peer.write(pDataTfPdu(CONTEXT, false, true, second));
    peer.write(finalResponse);
    await responded;
    await expect.poll(() => passed.length).toBe(2);

    expect(failures).toEqual([]);
    expect(passed[0]!.equals(accept)).toBe(true);
    expect(passed[1]!.equals(finalResponse)).toBe(true);
    expect(stored.map(({ request }) => [request.sopInstanceUid, request.messageId, request.transferSyntaxUid])).toEqual(
      [
        ['1.2.3.1', 11, EXPLICIT_LE],
        ['1.2.3.2', 12, EXPLICIT_LE],
      ],
    );
    const header = (sop: string) =>
      part10Header({ sopClassUid: CT, sopInstanceUid: sop, transferSyntaxUid: EXPLICIT_LE });
    expect((await bodyOf(stored[0]!.instance)).equals(Buffer.concat([header('1.2.3.1'), first]))).toBe(true);
    expect((await bodyOf(stored[1]!.instance)).equals(Buffer.concat([header('1.2.3.2'), second]))).toBe(true);
    expect(
      responses.map((response) => [
        response.commandField,
        response.number(CommandElement.messageIdBeingRespondedTo),
        response.number(CommandElement.status),
        response.text(CommandElement.affectedSopInstanceUid),
      ]),
    ).toEqual([
      [CommandField.cStoreResponse, 11, 0, '1.2.3.1'],
      [CommandField.cStoreResponse, 12, 0, '1.2.3.2'],
    ]);
  });

  it('answers only when a late status is given', async () => {
    let release: ((status: number) => void) | undefined;
    let released = false;
    const { peer, responses, responded } = await pair(
      {
        sink: (request) => memorySink(request),
        stored: () => new Promise<number>((resolve) => (release = resolve)),
        lost: () => 0x0110,
      },
      1,
    );
    let answeredEarly = false;
    peer.on('data', () => (answeredEarly ||= !released));
    peer.write(pDataTfPdu(CONTEXT, true, true, storeCommand('1.2.3.1', 1)));
    peer.write(pDataTfPdu(CONTEXT, false, true, Buffer.alloc(10)));
    await expect.poll(() => release !== undefined).toBe(true);
    // A round trip on the socket: an early answer would have arrived by now.
    await new Promise<void>((resolve) => {
      peer.write(pDataTfPdu(CONTEXT, true, true, getResponse(0xff00)), () => setImmediate(resolve));
    });
    released = true;
    release!(0xa700);
    await responded;
    expect(answeredEarly).toBe(false);
    expect(responses[0]!.number(CommandElement.status)).toBe(0xa700);
  });

  it('answers a failure for an instance that could not be kept', async () => {
    const { peer, responses, responded } = await pair(
      {
        sink: (request) => memorySink(request, 0, join(dir, 'missing')),
        stored: () => 0,
        lost: () => 0x0110,
      },
      1,
    );
    peer.write(pDataTfPdu(CONTEXT, true, true, storeCommand('1.2.3.1', 1)));
    peer.write(pDataTfPdu(CONTEXT, false, true, Buffer.alloc(10_000)));
    await responded;
    expect(responses[0]!.number(CommandElement.status)).toBe(0x0110);
  });

  it('passes C-STOREs on when it takes none, and reports a broken stream', async () => {
    const { peer, passed, failures } = await pair(undefined);
    const command = pDataTfPdu(CONTEXT, true, true, storeCommand('1.2.3.1', 1));
    const data = pDataTfPdu(CONTEXT, false, true, Buffer.alloc(10, 1));
    peer.write(Buffer.concat([command, data]));
    await expect.poll(() => passed.length).toBe(2);
    expect(passed[0]!.equals(command) && passed[1]!.equals(data)).toBe(true);
    peer.write(Buffer.from('not DICOM at all'));
    await expect.poll(() => failures.length).toBe(1);
    expect(failures[0]!.name).toBe('DimseProtocolError');
  });

  it('refuses a C-STORE on a context that was not accepted', async () => {
    const { peer, failures } = await pair({ sink: (request) => memorySink(request), stored: () => 0, lost: () => 0 });
    peer.write(pDataTfPdu(CONTEXT + 2, true, true, storeCommand('1.2.3.1', 1)));
    await expect.poll(() => failures.length).toBe(1);
  });
});
