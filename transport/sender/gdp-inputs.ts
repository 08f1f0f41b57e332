// Feeds a multi-client sender from a GDP stream, in one of two ways:
// - RawPayloadInput: the payload bytes of buffer packets (Ogg pages, WebM clusters...), with
//   the caps' `streamheader` as the sender's streamheader: what HTTP listeners and recordings get.
// - GdpFeedInput: whole GDP packets for eaters of a feed, every packet queued in order (sticky
//   ones too, so use its sender with resendStreamheader: false); late joiners are primed like
//   gdppay's streamheader (sticky events, then the caps' streamheader as HEADER buffer packets).
// Both read frames as they come from GdpDecoder; nothing is copied.

import { BUFFER_FLAG, GdpFrame, StickyState, encodePacket } from '../../protocol/gdp';
import { GstCaps } from '../../protocol/gst/caps';
import { MultiClientSender } from './multi-client-sender';

export class RawPayloadInput {
  private capsValue: GstCaps | null = null;
  private readonly capsListeners: Array<(caps: GstCaps) => void> = [];

  constructor(readonly sender: MultiClientSender) {}

  get caps(): GstCaps | null {
    return this.capsValue;
  }

  /** Called whenever caps arrive or change (the Content-Type may change with them). */
  onCaps(fn: (caps: GstCaps) => void): void {
    this.capsListeners.push(fn);
  }

  frame(f: GdpFrame): void {
    if (f.kind === 'caps') {
      const caps = GstCaps.parse(f.text ?? '');
      this.capsValue = caps;
      this.sender.setStreamheader(caps.streamheader());
      for (const fn of this.capsListeners) fn(caps);
      return;
    }
    if (f.kind !== 'buffer') return;
    const flags = f.bufferFlags;
    const payload = f.payload;
    // In-band copies of the streamheader go to clients through the streamheader only.
    if (flags & BUFFER_FLAG.HEADER && this.sender.queue.isStreamheader(payload)) return;
    this.sender.push({ chunks: [payload], size: payload.length, ptsMs: f.ptsMs, keyframe: (flags & BUFFER_FLAG.DELTA_UNIT) === 0 });
  }
}

export class GdpFeedInput {
  readonly sticky = new StickyState();
  private primedVersion = -1;

  constructor(
    readonly sender: MultiClientSender,
    private readonly crc = { crcHeader: true, crcPayload: false },
  ) {}

  frame(f: GdpFrame): void {
    // The priming of late joiners is rebuilt lazily: when one joins (prime()), or when a change
    // comes while a joiner still waits for its first data; not on every sticky change.
    if (this.sticky.update(f) && this.sender.queue.awaitingHeader()) this.prime();
    const keyframe = f.kind === 'buffer' ? (f.bufferFlags & BUFFER_FLAG.DELTA_UNIT) === 0 : false;
    this.sender.push({ chunks: f.chunks as Buffer[], size: f.length, ptsMs: f.kind === 'buffer' ? f.ptsMs : null, keyframe });
  }

  /** Brings the sender's streamheader up to date with the sticky state: call it before adding a client. */
  prime(): void {
    if (this.primedVersion === this.sticky.version) return;
    this.primedVersion = this.sticky.version;
    this.sender.setStreamheader(this.priming());
  }

  /** What a new eater gets first: sticky packets, then the caps' streamheader as HEADER buffers (as gdppay does). */
  priming(): Buffer[] {
    const out = this.sticky.primingFrames().map((f) => f.bytes);
    for (const h of this.sticky.streamheaders()) {
      out.push(encodePacket({ kind: 'buffer', pts: null, dts: null, duration: null, offset: null, offsetEnd: null, flags: BUFFER_FLAG.HEADER, data: h }, this.crc));
    }
    return out;
  }
}
