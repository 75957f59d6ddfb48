/**
 * A streaming reader of DICOM Upper Layer PDUs (PS3.8 §9.3) as they come off a socket. P-DATA-TF
 * PDUs (§9.3.5) are never assembled: their PDVs are handed on as views into the received chunks,
 * so a dataset crosses this reader without a copy. Every other PDU (A-ASSOCIATE-RQ/AC/RJ,
 * A-RELEASE-RQ/RP, A-ABORT; small) is collected whole and handed on as one buffer.
 *
 * Chunks may split a PDU anywhere, headers included; the reader keeps only the few header bytes
 * it has not finished.
 */

/** PDU types, PS3.8 Table 9-11. */
export const PduType = {
  associateRequest: 0x01,
  associateAccept: 0x02,
  associateReject: 0x03,
  pDataTf: 0x04,
  releaseRequest: 0x05,
  releaseResponse: 0x06,
  abort: 0x07,
} as const;

/** PDUs other than P-DATA-TF are collected whole; an A-ASSOCIATE-RQ with 128 contexts is ~10 KiB. */
const MAX_OTHER_PDU_BYTES = 1024 * 1024;
const PDU_HEADER_BYTES = 6;
/** Item length (4), presentation context ID (1), message control header (1). */
const PDV_HEADER_BYTES = 6;

/** The peer sent something that is not a DICOM Upper Layer stream. */
export class DimseProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DimseProtocolError';
  }
}

/** One presentation data value item's header (PS3.8 §9.3.5.1 and Annex E.2). */
export interface PdvHeader {
  presentationContextId: number;
  /** Message control header bit 0: a command fragment (else a data set fragment). */
  command: boolean;
  /** Message control header bit 1: the last fragment of its command or data set. */
  last: boolean;
}

export interface PduReaderHandler {
  /** A PDU header has been read (any type): the peer is alive. */
  pduStarted(type: number): void;
  /** A whole PDU other than P-DATA-TF, its 6-byte header included. */
  otherPdu(pdu: Buffer): void;
  /** Bytes of a PDV's value, in order; a view into the received chunk (kept as is, never reused). */
  pdvBytes(pdv: PdvHeader, bytes: Buffer): void;
  /** The PDV's value is complete. */
  pdvEnd(pdv: PdvHeader): void;
}

type State = 'pdu-header' | 'other-body' | 'pdv-header' | 'pdv-value';

export class PduReader {
  private readonly handler: PduReaderHandler;
  private state: State = 'pdu-header';
  /** Header bytes (PDU or PDV) read so far; headers may be split across chunks. */
  private readonly header = Buffer.alloc(Math.max(PDU_HEADER_BYTES, PDV_HEADER_BYTES));
  private headerFill = 0;
  private other: Buffer | undefined;
  private otherFill = 0;
  /** Bytes of the current P-DATA-TF PDU not read yet. */
  private pduRemaining = 0;
  private pdv: PdvHeader = { presentationContextId: 0, command: false, last: false };
  private pdvRemaining = 0;

  constructor(handler: PduReaderHandler) {
    this.handler = handler;
  }

  /** Reads one received chunk; throws DimseProtocolError on a malformed stream (read nothing more then). */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      switch (this.state) {
        case 'pdu-header':
          at = this.fillHeader(chunk, at, PDU_HEADER_BYTES);
          if (this.headerFill === PDU_HEADER_BYTES) this.startPdu();
          break;
        case 'other-body': {
          const other = this.other!;
          const take = Math.min(other.length - this.otherFill, chunk.length - at);
          chunk.copy(other, this.otherFill, at, at + take);
          this.otherFill += take;
          at += take;
          if (this.otherFill === other.length) this.endOther();
          break;
        }
        case 'pdv-header':
          at = this.fillHeader(chunk, at, PDV_HEADER_BYTES);
          if (this.headerFill === PDV_HEADER_BYTES) this.startPdv();
          break;
        case 'pdv-value': {
          const take = Math.min(this.pdvRemaining, chunk.length - at);
          this.handler.pdvBytes(this.pdv, chunk.subarray(at, at + take));
          at += take;
          this.pdvRemaining -= take;
          this.pduRemaining -= take;
          if (this.pdvRemaining === 0) this.endPdv();
          break;
        }
      }
    }
  }

  private fillHeader(chunk: Buffer, at: number, size: number): number {
    const take = Math.min(size - this.headerFill, chunk.length - at);
    chunk.copy(this.header, this.headerFill, at, at + take);
    this.headerFill += take;
    return at + take;
  }

  private startPdu(): void {
    this.headerFill = 0;
    const type = this.header[0]!;
    const length = this.header.readUInt32BE(2);
    if (type < PduType.associateRequest || type > PduType.abort) {
      throw new DimseProtocolError(`unknown PDU type 0x${type.toString(16)}`);
    }
    this.handler.pduStarted(type);
    if (type === PduType.pDataTf) {
      if (length < PDV_HEADER_BYTES) throw new DimseProtocolError(`P-DATA-TF of ${length} bytes holds no PDV`);
      this.pduRemaining = length;
      this.state = 'pdv-header';
      return;
    }
    if (length > MAX_OTHER_PDU_BYTES) throw new DimseProtocolError(`PDU type ${type} of ${length} bytes`);
    this.other = Buffer.allocUnsafe(PDU_HEADER_BYTES + length);
    this.header.copy(this.other, 0, 0, PDU_HEADER_BYTES);
    this.otherFill = PDU_HEADER_BYTES;
    this.state = 'other-body';
    if (length === 0) this.endOther();
  }

  private endOther(): void {
    const pdu = this.other!;
    this.other = undefined;
    this.state = 'pdu-header';
    this.handler.otherPdu(pdu);
  }

  private startPdv(): void {
    this.headerFill = 0;
    const itemLength = this.header.readUInt32BE(0);
    if (itemLength < 2 || itemLength + 4 > this.pduRemaining) {
      throw new DimseProtocolError(`PDV item of ${itemLength} bytes in ${this.pduRemaining} left of its PDU`);
    }
    const control = this.header[5]!;
    this.pdv = { presentationContextId: this.header[4]!, command: (control & 1) !== 0, last: (control & 2) !== 0 };
    this.pduRemaining -= PDV_HEADER_BYTES;
    this.pdvRemaining = itemLength - 2;
    this.state = 'pdv-value';
    if (this.pdvRemaining === 0) this.endPdv();
  }

  private endPdv(): void {
    if (this.pduRemaining === 0) this.state = 'pdu-header';
    else if (this.pduRemaining < PDV_HEADER_BYTES) {
      throw new DimseProtocolError(`${this.pduRemaining} stray bytes after the last PDV of a P-DATA-TF`);
    } else this.state = 'pdv-header';
    this.handler.pdvEnd(this.pdv);
  }
}
