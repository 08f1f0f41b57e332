// One WebRTC peer connection as fluxcast's endpoints make it, on werift (pure TypeScript, from
// npm): ICE-lite (we answer the browser's checks and send none), host candidates on the
// `host` address only (every interface for 0.0.0.0) with media ports from `udp-ports`, the
// `advertise` address written into the candidates for NAT and public hosts, DTLS-SRTP with one
// certificate per process, and exactly the codecs chosen from the offer (protocol/webrtc).
// Owns nothing beyond the connection it returns; its owner closes it.

import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import type { PeerConfig } from 'werift';
import { FluxError } from '../../protocol/errors';
import { WEBRTC_ERROR_CODES as E } from '../../protocol/webrtc/errors';
import { Choice, Offer, advertiseCandidates, narrowOffer } from '../../protocol/webrtc/sdp-offer';
import { isWildcardHost } from '../../protocol/listener-urls';

export interface PeerNetwork {
  /** The address media sockets bind (0.0.0.0: every interface). */
  host: string;
  /** The media ports, [first, last]; null: ephemeral ports. */
  udpPorts: [number, number] | null;
  /** Written into the answer's candidates instead of the bound addresses. */
  advertise?: string;
}

const MIME: Record<string, string> = { h264: 'video/H264', vp8: 'video/VP8', opus: 'audio/opus' };

/** The codec parameters werift negotiates with: the chosen format, with NACK, PLI and FIR feedback for video. */
function codecParameters(c: Choice): RTCRtpCodecParameters {
  const fmtp = Object.entries(c.format.fmtp).map(([k, v]) => `${k}=${v}`).join(';');
  return new RTCRtpCodecParameters({
    mimeType: MIME[c.codec],
    clockRate: c.format.clockRate,
    channels: c.kind === 'audio' ? c.format.channels : undefined,
    payloadType: c.pt,
    parameters: fmtp || undefined,
    rtcpFeedback: c.kind === 'video' ? [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }] : [],
  });
}

export interface PeerHooks {
  /** A STUN request arrived (the viewer's ICE consent checks: it is alive). */
  onStun(): void;
}

/** A peer connection for these choices on this network (not yet answered). */
export function createPeer(net: PeerNetwork, choices: readonly Choice[], hooks: PeerHooks): RTCPeerConnection {
  const wildcard = isWildcardHost(net.host);
  const config: Partial<PeerConfig> = {
    iceLite: true,
    codecs: {
      video: choices.filter((c) => c.kind === 'video').map(codecParameters),
      audio: choices.filter((c) => c.kind === 'audio').map(codecParameters),
    },
    headerExtensions: { video: [], audio: [] },
    icePortRange: net.udpPorts ?? undefined,
    iceUseIpv6: false,
    // A specific address: only it (loopback included); a wildcard: every interface.
    iceUseIpv4: wildcard,
    iceAdditionalHostAddresses: wildcard ? undefined : [net.host],
    iceInterfaceAddresses: wildcard ? undefined : { udp4: net.host },
    iceFilterStunResponse: () => {
      hooks.onStun();
      return true;
    },
  };
  return new RTCPeerConnection(config);
}

/**
 * Answers the narrowed offer; the answer SDP (every candidate in it: ICE-lite, no trickle).
 * `prepare` runs between the offer and the answer (transceivers exist: set their directions).
 */
export async function answerOffer(pc: RTCPeerConnection, sdp: string, offer: Offer, choices: readonly Choice[], net: PeerNetwork, prepare: () => void): Promise<string> {
  try {
    await pc.setRemoteDescription({ type: 'offer', sdp: narrowOffer(sdp, offer, choices) });
    prepare();
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
  } catch (e) {
    throw new FluxError(E.SESSION_FAILED, `the WebRTC stack could not answer: ${(e as Error).message}`);
  }
  const local = pc.localDescription?.sdp;
  if (!local) throw new FluxError(E.SESSION_FAILED, 'the WebRTC stack made no answer');
  return net.advertise ? advertiseCandidates(local, net.advertise) : local;
}
