// One WHIP publisher: its peer connection (ICE-lite, DTLS-SRTP) receiving the tracks it sends,
// each RTP packet handed on with its kind by a direct call (the depacketizing is the producer's),
// and a way to ask it for a keyframe (RTCP PLI). It ends exactly once, with a reason.

import { RTCPeerConnection } from 'werift';
import type { RTCRtpReceiver, RtpPacket } from 'werift';
import { MediaKind } from './whep-viewer';

export interface PublisherHooks {
  rtp(p: WhipPublisher, kind: MediaKind, packet: RtpPacket): void;
  ended(p: WhipPublisher, reason: string): void;
}

export class WhipPublisher {
  readonly since = Date.now();
  lastMedia = Date.now();
  bytesIn = 0;
  ended = false;
  private readonly receivers = new Map<MediaKind, RTCRtpReceiver>();
  private readonly ssrcs = new Map<MediaKind, number>();

  /** Made before the offer is set: its tracks are announced while it is. */
  constructor(
    readonly id: string,
    readonly address: string,
    readonly pc: RTCPeerConnection,
    private readonly hooks: PublisherHooks,
  ) {
    pc.onTrack.subscribe((track) => {
      const kind = track.kind === 'video' || track.kind === 'audio' ? track.kind : null;
      if (!kind) return;
      track.onReceiveRtp.subscribe((packet) => {
        if (this.ended) return;
        this.ssrcs.set(kind, packet.header.ssrc);
        this.lastMedia = Date.now();
        this.bytesIn += packet.payload.length;
        this.hooks.rtp(this, kind, packet);
      });
    });
  }

  /** The offer is set: every transceiver receives only. */
  prepare(kinds: ReadonlyMap<number, MediaKind>): void {
    this.pc.getTransceivers().forEach((t, i) => {
      const kind = kinds.get(t.mLineIndex ?? i);
      if (!kind) return;
      t.setDirection('recvonly');
      this.receivers.set(kind, t.receiver);
    });
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === 'failed' || state === 'closed') this.close(state === 'failed' ? 'ICE or DTLS failed' : 'closed by the publisher');
    });
  }

  /** Asks the publisher's encoder for a keyframe (RTCP PLI on the video track). */
  askKeyframe(): boolean {
    const receiver = this.receivers.get('video');
    const ssrc = this.ssrcs.get('video');
    if (!receiver || ssrc === undefined || this.ended) return false;
    receiver.sendRtcpPLI(ssrc).catch(() => undefined);
    return true;
  }

  close(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.pc.close().catch(() => undefined);
    this.hooks.ended(this, reason);
  }
}
