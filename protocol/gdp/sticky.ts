// The sticky state of a GDP stream: what a late joiner needs before data (stream-start, caps,
// segment, tags and other sticky events, plus the streamheader buffers found in the caps).
// Does not decide when to send them; the multi-client sender does. A new stream-start resets it.

import { GstCaps } from '../gst/caps';
import { GstStructure } from '../gst/structure';
import { EVENT_TYPES, isSticky, isStickyMulti } from '../gst/event-types';
import { GdpFrame } from './frame';

const ORDER: Record<string, number> = { 'stream-start': 0, caps: 1, segment: 2 };

/** Sticky entries kept at most: past it the oldest other than stream-start, caps and segment goes. */
export const MAX_STICKY_ENTRIES = 64;

export class StickyState {
  private entries = new Map<string, GdpFrame>();
  private capsValue: GstCaps | null = null;
  /** Increases whenever the priming set changes (a new header for late joiners). */
  version = 0;

  /** Takes note of a frame; returns true when it changed the sticky state. */
  update(frame: GdpFrame): boolean {
    if (frame.kind === 'buffer') return false;
    if (frame.kind === 'caps') {
      const prev = this.entries.get('caps');
      if (prev && prev.bytes.equals(frame.bytes)) return false;
      this.entries.set('caps', frame);
      this.capsValue = GstCaps.parse(frame.text ?? '');
      this.version++;
      return true;
    }
    const type = frame.eventType;
    if (type === EVENT_TYPES['stream-start']) {
      const prev = this.entries.get('stream-start');
      if (prev && prev.bytes.equals(frame.bytes)) return false;
      this.entries.clear();
      this.capsValue = null;
      this.entries.set('stream-start', frame);
      this.version++;
      return true;
    }
    if (type === EVENT_TYPES.eos || !isSticky(type)) return false;
    let key = type === EVENT_TYPES.segment ? 'segment' : `event:${type}`;
    if (isStickyMulti(type) && frame.text) key += ':' + GstStructure.parse(frame.text).name;
    const prev = this.entries.get(key);
    if (prev && prev.bytes.equals(frame.bytes)) return false;
    if (!prev && this.entries.size >= MAX_STICKY_ENTRIES) {
      // Bounded: thousands of distinct tag events cost a late joiner nothing more than 64 entries.
      for (const k of this.entries.keys()) {
        if (!(k in ORDER)) {
          this.entries.delete(k);
          break;
        }
      }
    }
    this.entries.set(key, frame);
    this.version++;
    return true;
  }

  get caps(): GstCaps | null {
    return this.capsValue;
  }

  get hasCaps(): boolean {
    return this.capsValue !== null;
  }

  /** The frames a new client gets first: stream-start, caps, segment, then other sticky events in arrival order. */
  primingFrames(): GdpFrame[] {
    return [...this.entries.entries()]
      .map(([key, frame], i) => ({ frame, rank: ORDER[key] ?? 3, i }))
      .sort((a, b) => a.rank - b.rank || a.i - b.i)
      .map((e) => e.frame);
  }

  /** Buffers of the caps' `streamheader` field (codec headers of Ogg, WebM, FLAC...). */
  streamheaders(): Buffer[] {
    return this.capsValue?.streamheader() ?? [];
  }

  clear(): void {
    this.entries.clear();
    this.capsValue = null;
    this.version++;
  }
}
