// Keyframe requests across a planet, pure. A request travels upstream as GStreamer's own
// GstForceKeyUnit custom-upstream event, serialized as a GDP event packet on the feed
// connection, from the eater back to the feeder (what a pad does with an upstream event).
//
// An encoder run by gst-launch cannot be handed that event: gdppay stores event types in 16
// bits, so a custom event leaves gdpdepay as an unknown type and GstVideoEncoder ignores it
// (measured with x264enc and vp8enc, GStreamer 1.22). What every GstVideoEncoder does honour is
// a flush: FLUSH_START, FLUSH_STOP (reset-time=false) and the segment in force make it call its
// flush vfunc, which re-initializes x264 or libvpx, so the next frame is a keyframe with its
// headers and no frame is lost (zerolatency encoders hold none back). The encoder sends the flush
// on downstream, and x264enc restarts its timestamps under a shifted segment; `FlushedOutput`
// hides both from the rest of the planet: flushes are dropped and buffers keep the running time
// of the original segment, so downstream sees one continuous stream.

import { GdpFrame, toFrame } from '../gdp';
import { EVENT_TYPES, wireEventType } from './event-types';

export const FORCE_KEY_UNIT = 'GstForceKeyUnit';

/** The event type a GDP decoder reports for a custom-upstream event (gdppay's 16-bit truncation). */
export const CUSTOM_UPSTREAM_WIRE = wireEventType(EVENT_TYPES['custom-upstream']);

/** The upstream request for a keyframe with its headers, as GStreamer writes it. */
export function keyUnitRequestFrame(): GdpFrame {
  return toFrame({
    kind: 'event',
    eventType: EVENT_TYPES['custom-upstream'],
    structure: `${FORCE_KEY_UNIT}, running-time=(guint64)18446744073709551615, all-headers=(boolean)true, count=(uint)0;`,
  });
}

export function isKeyUnitRequest(f: GdpFrame): boolean {
  if (f.kind !== 'event' || f.eventType !== CUSTOM_UPSTREAM_WIRE) return false;
  const t = f.text ?? '';
  return t === FORCE_KEY_UNIT || t.startsWith(`${FORCE_KEY_UNIT},`) || t.startsWith(`${FORCE_KEY_UNIT};`);
}

/** What goes into an encoder's input to make its next frame a keyframe: a flush, then the segment in force. */
export function encoderRestartFrames(segment: GdpFrame | null): GdpFrame[] {
  const out = [
    toFrame({ kind: 'event', eventType: EVENT_TYPES['flush-start'], structure: 'GstEventFlushStart;' }),
    toFrame({ kind: 'event', eventType: EVENT_TYPES['flush-stop'], structure: 'GstEventFlushStop, reset-time=(boolean)false;' }),
  ];
  if (segment) out.push(segment);
  return out;
}

/** The `start` of a serialized TIME segment event (ns), or null. */
export function segmentStart(f: GdpFrame): bigint | null {
  const m = /[\s,"]start=\(guint64\)(\d+)/.exec(f.text ?? '');
  return m ? BigInt(m[1]) : null;
}

/**
 * An encoder's output after flushes we caused: flush events are dropped, the segment that
 * follows a flush is swallowed, and later buffers are moved by the difference of the segments'
 * starts, so their running time (pts - start) is what it would be in the first segment.
 */
export class FlushedOutput {
  private origin: bigint | null = null;
  private shift = 0n;
  private flushed = false;

  frame(f: GdpFrame): GdpFrame | null {
    if (f.kind === 'caps') return f;
    if (f.kind === 'event') {
      const t = f.eventType;
      if (t === EVENT_TYPES['flush-start']) return null;
      if (t === EVENT_TYPES['flush-stop']) {
        this.flushed = true;
        return null;
      }
      if (t === EVENT_TYPES['stream-start']) {
        this.origin = null;
        this.shift = 0n;
        this.flushed = false;
        return f;
      }
      if (t === EVENT_TYPES.segment) {
        const start = segmentStart(f);
        if (this.flushed && this.origin !== null && start !== null) {
          this.flushed = false;
          this.shift = this.origin - start;
          return null;
        }
        this.flushed = false;
        this.origin = start;
        this.shift = 0n;
        return f;
      }
      return f;
    }
    if (this.shift === 0n) return f;
    const p = f.toPacket();
    if (p.kind !== 'buffer') return f;
    const move = (v: bigint | null): bigint | null => (v === null ? null : v + this.shift < 0n ? 0n : v + this.shift);
    return toFrame({ ...p, pts: move(p.pts), dts: move(p.dts) }, { crcHeader: f.crcHeader, crcPayload: f.crcPayload });
  }
}
