import { Device, type types } from 'mediasoup-client';
import type { ConnectivityPath, ConnectivityProbeOpening } from '@telemed/contract';
import { sendRequest, type SignalingSocket } from '#lib/conference/signaling-socket.ts';
import { carriedPath, type CarriedPath } from './connectivity-stats.ts';

/**
 * One connectivity probe, end to end through the ports a call uses: signaling opens a probe
 * transport on the SFU limited to the path under test; this browser connects to it with a
 * mediasoup-client send transport and opens a data channel over it. The channel opening proves
 * ICE, DTLS and SCTP through that path; the transport's statistics then tell which candidate
 * pair carried it and its round-trip time. Browser-only (mediasoup-client, RTCPeerConnection).
 */

/** `ok`: reachable; `failed`: not reachable in time; `unavailable`: not offered by this server; `error`: could not test. */
export type ProbeResult = 'ok' | 'failed' | 'unavailable' | 'error';

export interface ProbeOutcome {
  path: ConnectivityPath;
  result: ProbeResult;
  /** How it got through (when it did). */
  carried: CarriedPath | null;
  /** Where the SFU listens for this path, from the probe transport's ICE candidates. */
  endpoints: { protocol: string; address: string; port: number }[];
  /** Every media port of the SFU (one per worker). */
  mediaPorts: number[];
  /** The TURN servers a relayed probe was given (`turns:host:port?…`), for the firewall's port list. */
  turnUrls?: string[];
}

/** A path that does not connect within this long counts as blocked. */
export const PROBE_TIMEOUT_MS = 10_000;

export async function runConnectivityProbe(
  socket: SignalingSocket,
  path: ConnectivityPath,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<ProbeOutcome> {
  const outcome = (result: ProbeResult, opening?: ConnectivityProbeOpening, carried: CarriedPath | null = null) => ({
    path,
    result,
    carried,
    endpoints:
      opening?.available === true
        ? opening.transport.iceCandidates.map(({ protocol, address, port }) => ({ protocol, address, port }))
        : [],
    mediaPorts: opening?.available === true ? opening.mediaPorts : [],
    turnUrls:
      opening?.available === true
        ? opening.iceServers.flatMap((server) => (Array.isArray(server.urls) ? server.urls : [server.urls]))
        : [],
  });

  let opening: ConnectivityProbeOpening;
  try {
    opening = await sendRequest(socket, 'probe:open', { path });
  } catch (error) {
    console.error(`connectivity probe ${path} could not start`, error);
    return outcome('error');
  }
  if (!opening.available) return outcome('unavailable');

  const { probeId } = opening;
  let transport: types.Transport | null = null;
  try {
    const device = await Device.factory();
    // Shapes match the contract's schemas; mediasoup-client checks the content.
    await device.load({ routerRtpCapabilities: opening.routerRtpCapabilities as types.RtpCapabilities });
    transport = device.createSendTransport({
      ...(opening.transport as typeof opening.transport & types.TransportOptions),
      iceServers: opening.iceServers,
      iceTransportPolicy: opening.iceTransportPolicy,
    });
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      sendRequest(socket, 'probe:connect', { probeId, dtlsParameters }).then(() => callback(), errback);
    });
    transport.on('producedata', ({ sctpStreamParameters, label, protocol }, callback, errback) => {
      sendRequest(socket, 'probe:produce', {
        probeId,
        sctpStreamParameters: { ...sctpStreamParameters, streamId: sctpStreamParameters.streamId ?? 0 },
        label: label ?? '',
        protocol: protocol ?? '',
      }).then(({ dataProducerId }) => callback({ id: dataProducerId }), errback);
    });
    const channel = await transport.produceData({ ordered: true, label: 'connectivity-probe' });
    if (!(await opensWithin(channel, transport, timeoutMs))) return outcome('failed', opening);
    return outcome('ok', opening, carriedPath((await transport.getStats()).values()));
  } catch (error) {
    console.error(`connectivity probe ${path} failed`, error);
    return outcome('failed', opening);
  } finally {
    transport?.close();
    sendRequest(socket, 'probe:close', { probeId }).catch(() => undefined);
  }
}

/** Whether the data channel opens before the transport fails or the time is up. */
function opensWithin(channel: types.DataProducer, transport: types.Transport, timeoutMs: number): Promise<boolean> {
  if (channel.readyState === 'open') return Promise.resolve(true);
  return new Promise((resolve) => {
    const settle = (opened: boolean) => {
      clearTimeout(timer);
      channel.off('open', onOpen);
      transport.off('connectionstatechange', onState);
      resolve(opened);
    };
    const onOpen = () => settle(true);
    const onState = (state: string) => {
      if (state === 'failed' || state === 'closed') settle(false);
    };
    const timer = setTimeout(() => settle(false), timeoutMs);
    channel.on('open', onOpen);
    transport.on('connectionstatechange', onState);
  });
}
