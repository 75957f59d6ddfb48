import dcmjsDimse from 'dcmjs-dimse';
import { describe, expect, it } from 'vitest';
import { CommandElement, CommandField, CommandSet, cStoreResponseCommand, pDataTfPdu } from './dimse-command-set.ts';
import { DimseProtocolError } from './dimse-pdu-reader.ts';

/** Cross-checked against dcmjs-dimse's own encoder and decoder. */

const { Dataset } = dcmjsDimse;
const { CStoreRequest } = dcmjsDimse.requests;
const { CGetResponse } = dcmjsDimse.responses;
const CT = '1.2.840.10008.5.1.4.1.1.2';

describe('DIMSE command sets', () => {
  it('reads a C-STORE request as dcmjs-dimse encodes it, C-MOVE originator included', () => {
    const request = new CStoreRequest(new Dataset({ SOPClassUID: CT, SOPInstanceUID: '1.2.3.4.5' }));
    request.setMessageId(7);
    request.getCommandDataset().setElement('MoveOriginatorApplicationEntityTitle', 'TELEMED');
    request.getCommandDataset().setElement('MoveOriginatorMessageID', 42 as never);
    const command = CommandSet.read(request.getCommandDataset().getDenaturalizedCommandDataset());
    expect(command.commandField).toBe(CommandField.cStoreRequest);
    expect(command.hasDataSet).toBe(true);
    expect(command.number(CommandElement.messageId)).toBe(7);
    expect(command.text(CommandElement.affectedSopClassUid)).toBe(CT);
    expect(command.text(CommandElement.affectedSopInstanceUid)).toBe('1.2.3.4.5');
    expect(command.text(CommandElement.moveOriginatorAet)).toBe('TELEMED');
    expect(command.number(CommandElement.moveOriginatorMessageId)).toBe(42);
  });

  it('reads a pending C-GET response without a data set', () => {
    const response = new CGetResponse(0xff00, '');
    response.setMessageIdBeingRespondedTo(3);
    const command = CommandSet.read(response.getCommandDataset().getDenaturalizedCommandDataset());
    expect(command.commandField).toBe(CommandField.cGetResponse);
    expect(command.hasDataSet).toBe(false);
    expect(command.number(CommandElement.status)).toBe(0xff00);
  });

  it('writes a C-STORE response dcmjs-dimse reads back', () => {
    const bytes = cStoreResponseCommand({
      sopClassUid: CT,
      sopInstanceUid: '1.2.3.4.56', // odd length: padded with NUL
      messageIdBeingRespondedTo: 9,
      status: 0xa700,
    });
    expect(bytes.readUInt32LE(8)).toBe(bytes.length - 12); // the group length
    const decoded = new Dataset(bytes, '1.2.840.10008.1.2');
    expect(Number(decoded.getElement('CommandField'))).toBe(CommandField.cStoreResponse);
    expect(Number(decoded.getElement('MessageIDBeingRespondedTo'))).toBe(9);
    expect(Number(decoded.getElement('Status'))).toBe(0xa700);
    expect(Number(decoded.getElement('CommandDataSetType'))).toBe(0x0101);
    expect(decoded.getElement('AffectedSOPInstanceUID')).toBe('1.2.3.4.56');
    expect(decoded.getElement('AffectedSOPClassUID')).toBe(CT);
    const ours = CommandSet.read(bytes);
    expect(ours.text(CommandElement.affectedSopInstanceUid)).toBe('1.2.3.4.56');
  });

  it('frames one PDV in a P-DATA-TF', () => {
    const pdu = pDataTfPdu(5, true, true, Buffer.from('abcd'));
    expect([...pdu]).toEqual([4, 0, 0, 0, 0, 10, 0, 0, 0, 6, 5, 3, 0x61, 0x62, 0x63, 0x64]);
    expect(pDataTfPdu(5, false, false, Buffer.alloc(0))[11]).toBe(0);
  });

  it('refuses what is no command set', () => {
    expect(() => CommandSet.read(Buffer.from([0x08, 0x00, 0x18, 0x00, 0, 0, 0, 0]))).toThrow(DimseProtocolError);
    expect(() => CommandSet.read(Buffer.from([0, 0, 0, 1, 9, 0, 0, 0, 1]))).toThrow(DimseProtocolError);
  });
});
