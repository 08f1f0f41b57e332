// One WHEP viewer: its peer connection (its own ICE, DTLS and SRTP: one encrypted session per
// viewer) and what it is sent. Packets come shared from the fan-out; each viewer only stamps its
// SSRC and payload type and encrypts (werift's sender, which also keeps the short history NACKs
// are answered from: the last 128 packets). Its liveness is the browser's STUN consent checks
// and RTCP: an ICE-lite server sends no checks of its own, so silence is the only sign of a
// viewer gone without DELETE. It ends exactly once, with a reason.

import { RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import type { RTCRtpSender } from 'werift';

export type MediaKind = 'video' | 'audio';

/** A packet made once for every viewer. */
export interface SharedPacket {
  seq: number;
  timestamp: number;
  marker: boolean;
  payload: Buffer;
}

export interface ViewerHooks {
  connected(v: WhepViewer): void;
  ended(v: WhepViewer, reason: string): void;
  /** The viewer's decoder lost the picture (PLI or FIR). */
  keyframeWanted(v: WhepViewer): void;
}

const RTCP_PSFB = 206;
const FIR = 4;

export class WhepViewer {
  readonly since = Date.now();
  /** Last STUN check or RTCP packet from the viewer (ms since the epoch). */
  lastSeen = Date.now();
  connected = false;
  ended = false;
  endReason: string | null = null;
  bytesSent = 0;
  packetsSent = 0;
  keyframeRequests = 0;
  private readonly senders = new Map<MediaKind, RTCRtpSender>();

  constructor(
    readonly id: string,
    readonly address: string,
    readonly userAgent: string,
    readonly pc: RTCPeerConnection,
    private readonly hooks: ViewerHooks,
  ) {}

  /** The offer is set: every transceiver sends only; RTCP and the connection state are watched. */
  prepare(kinds: ReadonlyMap<number, MediaKind>): void {
    this.pc.getTransceivers().forEach((t, i) => {
      const kind = kinds.get(t.mLineIndex ?? i);
      if (!kind) return;
      t.setDirection('sendonly');
      this.senders.set(kind, t.sender);
      t.sender.onRtcp.subscribe((p) => {
        this.alive();
        if (p.type === RTCP_PSFB && (p as { feedback?: { count?: number } }).feedback?.count === FIR) this.wantKeyframe();
      });
      t.sender.onPictureLossIndication.subscribe(() => this.wantKeyframe());
    });
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected' && !this.connected && !this.ended) {
        this.connected = true;
        this.alive();
        this.hooks.connected(this);
      } else if (state === 'failed' || state === 'closed') this.close(state === 'failed' ? 'ICE or DTLS failed' : 'closed by the viewer');
    });
  }

  /** A STUN check or RTCP arrived. */
  alive(): void {
    this.lastSeen = Date.now();
  }

  private wantKeyframe(): void {
    this.keyframeRequests++;
    this.hooks.keyframeWanted(this);
  }

  has(kind: MediaKind): boolean {
    return this.senders.has(kind);
  }

  /** Sends a shared packet, with its own timestamp when given (a burst's). */
  send(kind: MediaKind, p: SharedPacket, timestamp = p.timestamp): void {
    const sender = this.senders.get(kind);
    if (!sender || !this.connected || this.ended) return;
    const header = new RtpHeader({ sequenceNumber: p.seq, timestamp: timestamp >>> 0, marker: p.marker, payloadType: 0, ssrc: 0 });
    this.bytesSent += p.payload.length + 12;
    this.packetsSent++;
    sender.sendRtp(new RtpPacket(header, p.payload)).catch(() => undefined);
  }

  /** Ends the session (idempotent); the hooks hear of it once. */
  close(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.endReason = reason;
    this.connected = false;
    this.pc.close().catch(() => undefined);
    this.hooks.ended(this, reason);
  }
}
