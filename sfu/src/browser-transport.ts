import type { types } from 'mediasoup';
import type { TransportOptions } from '@telemed/contract';

/**
 * What a browser needs to create its side of a WebRtcTransport (a call's or a connectivity
 * probe's): only that — never the listening IP behind the announced address.
 */
export function browserTransportOptions(transport: types.WebRtcTransport): TransportOptions {
  return {
    id: transport.id,
    iceParameters: transport.iceParameters,
    iceCandidates: transport.iceCandidates.map(({ foundation, priority, address, protocol, port, type, tcpType }) => ({
      foundation,
      priority,
      address,
      protocol,
      port,
      type,
      ...(tcpType ? { tcpType } : {}),
    })),
    dtlsParameters: transport.dtlsParameters,
  };
}
