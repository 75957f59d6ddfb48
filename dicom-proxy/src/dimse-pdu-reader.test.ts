import { describe, expect, it } from 'vitest';
import { pDataTfPdu } from './dimse-command-set.ts';
import { DimseProtocolError, PduReader, PduType, type PdvHeader } from './dimse-pdu-reader.ts';

type Event =
  | { kind: 'other'; pdu: Buffer }
  | { kind: 'pdv'; header: PdvHeader; value: Buffer }
  | { kind: 'started'; type: number };

/** Reads `stream` split into the given chunks; PDV values are reassembled per PDV. */
function read(chunks: Buffer[]): Event[] {
  const events: Event[] = [];
  let value: Buffer[] = [];
  const reader = new PduReader({
    pduStarted: (type) => events.push({ kind: 'started', type }),
    otherPdu: (pdu) => events.push({ kind: 'other', pdu: Buffer.from(pdu) }),
    pdvBytes: (_header, bytes) => value.push(Buffer.from(bytes)),
    pdvEnd: (header) => {
      events.push({ kind: 'pdv', header, value: Buffer.concat(value) });
      value = [];
    },
  });
  for (const chunk of chunks) reader.push(chunk);
  return events;
}

function pdu(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 2);
  return Buffer.concat([header, body]);
}

/** A P-DATA-TF holding several PDVs. */
function pDataTf(pdvs: { id: number; control: number; value: Buffer }[]): Buffer {
  const items = pdvs.map(({ id, control, value }) => {
    const header = Buffer.alloc(6);
    header.writeUInt32BE(value.length + 2, 0);
    header.writeUInt8(id, 4);
    header.writeUInt8(control, 5);
    return Buffer.concat([header, value]);
  });
  return pdu(PduType.pDataTf, Buffer.concat(items));
}

const accept = pdu(PduType.associateAccept, Buffer.from('an A-ASSOCIATE-AC body, opaque here'));
const command = Buffer.from('command set bytes');
const data1 = Buffer.alloc(300, 7);
const data2 = Buffer.from(Array.from({ length: 257 }, (_, index) => index % 256));
const stream = Buffer.concat([
  accept,
  pDataTf([
    { id: 3, control: 0b11, value: command },
    { id: 3, control: 0b00, value: data1 },
  ]),
  pDataTfPdu(3, false, true, data2),
  pDataTfPdu(5, false, true, Buffer.alloc(0)),
  pdu(PduType.releaseResponse, Buffer.alloc(4)),
]);

const expected: Event[] = [
  { kind: 'started', type: PduType.associateAccept },
  { kind: 'other', pdu: accept },
  { kind: 'started', type: PduType.pDataTf },
  { kind: 'pdv', header: { presentationContextId: 3, command: true, last: true }, value: command },
  { kind: 'pdv', header: { presentationContextId: 3, command: false, last: false }, value: data1 },
  { kind: 'started', type: PduType.pDataTf },
  { kind: 'pdv', header: { presentationContextId: 3, command: false, last: true }, value: data2 },
  { kind: 'started', type: PduType.pDataTf },
  { kind: 'pdv', header: { presentationContextId: 5, command: false, last: true }, value: Buffer.alloc(0) },
  { kind: 'started', type: PduType.releaseResponse },
  { kind: 'other', pdu: pdu(PduType.releaseResponse, Buffer.alloc(4)) },
];

describe('PduReader', () => {
  it('reads PDUs and PDVs from one chunk', () => {
    expect(read([stream])).toEqual(expected);
  });

  it('reads the same whatever the chunk boundaries, headers split included', () => {
    for (let split = 1; split < stream.length; split++) {
      expect(read([stream.subarray(0, split), stream.subarray(split)])).toEqual(expected);
    }
    expect(read([...stream].map((byte) => Buffer.from([byte])))).toEqual(expected);
  });

  it('hands PDV values on as views into the received chunk, not copies', () => {
    const chunk = pDataTfPdu(1, false, true, Buffer.alloc(1000, 1));
    const views: Buffer[] = [];
    new PduReader({
      pduStarted: () => undefined,
      otherPdu: () => undefined,
      pdvBytes: (_header, bytes) => views.push(bytes),
      pdvEnd: () => undefined,
    }).push(chunk);
    expect(views).toHaveLength(1);
    expect(views[0]!.buffer).toBe(chunk.buffer);
    expect(views[0]!.byteOffset).toBe(chunk.byteOffset + 12);
  });

  it('refuses what is no DICOM Upper Layer stream', () => {
    expect(() => read([Buffer.from('GET / HTTP/1.1\r\n\r\n')])).toThrow(DimseProtocolError);
    const tooLong = pDataTfPdu(1, false, true, Buffer.alloc(10));
    tooLong.writeUInt32BE(100, 6); // the PDV claims more than its PDU holds
    expect(() => read([tooLong])).toThrow(DimseProtocolError);
    const stray = pdu(
      PduType.pDataTf,
      Buffer.concat([pDataTfPdu(1, true, true, Buffer.alloc(2)).subarray(6), Buffer.alloc(3)]),
    );
    expect(() => read([stray])).toThrow(DimseProtocolError);
  });
});
