import { DimseProtocolError, PduType } from './dimse-pdu-reader.ts';

/**
 * DIMSE command sets (PS3.7 §6.3.1, §9.3.1): group 0000 elements, always implicit VR little
 * endian. Read to recognise a C-STORE request and its UIDs, and written for the C-STORE response,
 * the messages the proxy handles without dcmjs-dimse (see dimse-association-reader.ts).
 */

/** Command elements (group 0000), by element number. */
export const CommandElement = {
  groupLength: 0x0000,
  affectedSopClassUid: 0x0002,
  commandField: 0x0100,
  messageId: 0x0110,
  messageIdBeingRespondedTo: 0x0120,
  commandDataSetType: 0x0800,
  status: 0x0900,
  affectedSopInstanceUid: 0x1000,
  moveOriginatorAet: 0x1030,
  moveOriginatorMessageId: 0x1031,
} as const;

export const CommandField = {
  cStoreRequest: 0x0001,
  cStoreResponse: 0x8001,
  cGetResponse: 0x8010,
  cMoveResponse: 0x8021,
} as const;
/** Command Data Set Type saying no data set follows; any other value means one does. */
export const NO_DATA_SET = 0x0101;
/** Largest command set accepted: real ones are a few hundred bytes. */
export const MAX_COMMAND_SET_BYTES = 64 * 1024;

/** A received command set's elements: value bytes by element number. */
export class CommandSet {
  private readonly values: Map<number, Buffer>;

  private constructor(values: Map<number, Buffer>) {
    this.values = values;
  }

  /** Parses a whole command set; throws DimseProtocolError when it is not one. */
  static read(bytes: Buffer): CommandSet {
    const values = new Map<number, Buffer>();
    let at = 0;
    while (at < bytes.length) {
      if (at + 8 > bytes.length) throw new DimseProtocolError('truncated command element header');
      const group = bytes.readUInt16LE(at);
      const element = bytes.readUInt16LE(at + 2);
      const length = bytes.readUInt32LE(at + 4);
      at += 8;
      if (group !== 0x0000) throw new DimseProtocolError(`element (${group.toString(16)},…) in a command set`);
      if (at + length > bytes.length) throw new DimseProtocolError('truncated command element value');
      values.set(element, bytes.subarray(at, at + length));
      at += length;
    }
    return new CommandSet(values);
  }

  /** An US element's value. */
  number(element: number): number | undefined {
    const value = this.values.get(element);
    return value && value.length >= 2 ? value.readUInt16LE(0) : undefined;
  }

  /** A UI / AE element's value without its padding (NUL or space). */
  text(element: number): string | undefined {
    const value = this.values.get(element);
    return value
      ? value
          .toString('latin1')
          .replace(/[\0 ]+$/, '')
          .trim()
      : undefined;
  }

  get commandField(): number | undefined {
    return this.number(CommandElement.commandField);
  }

  get hasDataSet(): boolean {
    const type = this.number(CommandElement.commandDataSetType);
    return type !== undefined && type !== NO_DATA_SET;
  }
}

function element(elementNumber: number, value: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16LE(0x0000, 0);
  header.writeUInt16LE(elementNumber, 2);
  header.writeUInt32LE(value.length, 4);
  return Buffer.concat([header, value]);
}

function unsignedShort(value: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16LE(value);
  return bytes;
}

function uid(value: string): Buffer {
  const bytes = Buffer.from(value, 'latin1');
  return bytes.length % 2 ? Buffer.concat([bytes, Buffer.from([0])]) : bytes;
}

export interface CStoreResponseFields {
  sopClassUid: string;
  sopInstanceUid: string;
  messageIdBeingRespondedTo: number;
  status: number;
}

/** The command set of a C-STORE-RSP (PS3.7 Table 9.3-2), elements in ascending order. */
export function cStoreResponseCommand(fields: CStoreResponseFields): Buffer {
  const elements = Buffer.concat([
    element(CommandElement.affectedSopClassUid, uid(fields.sopClassUid)),
    element(CommandElement.commandField, unsignedShort(CommandField.cStoreResponse)),
    element(CommandElement.messageIdBeingRespondedTo, unsignedShort(fields.messageIdBeingRespondedTo)),
    element(CommandElement.commandDataSetType, unsignedShort(NO_DATA_SET)),
    element(CommandElement.status, unsignedShort(fields.status)),
    element(CommandElement.affectedSopInstanceUid, uid(fields.sopInstanceUid)),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(elements.length);
  return Buffer.concat([element(CommandElement.groupLength, groupLength), elements]);
}

/** A P-DATA-TF PDU carrying one PDV (PS3.8 §9.3.5): a whole command, or one fragment of either. */
export function pDataTfPdu(presentationContextId: number, command: boolean, last: boolean, value: Buffer): Buffer {
  const pdu = Buffer.allocUnsafe(12 + value.length);
  pdu.writeUInt8(PduType.pDataTf, 0);
  pdu.writeUInt8(0, 1);
  pdu.writeUInt32BE(6 + value.length, 2);
  pdu.writeUInt32BE(2 + value.length, 6);
  pdu.writeUInt8(presentationContextId, 10);
  pdu.writeUInt8((command ? 1 : 0) | (last ? 2 : 0), 11);
  value.copy(pdu, 12);
  return pdu;
}
