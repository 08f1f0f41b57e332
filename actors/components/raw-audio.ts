// Helpers shared by fluxcast's pure-TypeScript audio components: the sticky events they send
// (stream-start, segment), raw audio caps text, and reading the caps they eat.

import { randomBytes } from 'crypto';
import { GdpFrame, toFrame } from '../../protocol/gdp';
import { GstCaps } from '../../protocol/gst/caps';
import { EVENT_TYPES } from '../../protocol/gst/event-types';

export function streamStartFrame(): GdpFrame {
  const id = randomBytes(16).toString('hex');
  return toFrame({ kind: 'event', eventType: EVENT_TYPES['stream-start'], structure: `GstEventStreamStart, stream-id=(string)${id}, flags=(GstStreamFlags)GST_STREAM_FLAG_NONE, group-id=(uint)1;` });
}

/** A TIME segment from 0 to forever, exactly as GStreamer writes it. */
export function timeSegmentFrame(): GdpFrame {
  const seg =
    'segment, flags=(GstSegmentFlags)GST_SEGMENT_FLAG_NONE, rate=(double)1, applied-rate=(double)1, format=(GstFormat)time, ' +
    'base=(guint64)0, offset=(guint64)0, start=(guint64)0, stop=(guint64)18446744073709551615, time=(guint64)0, ' +
    'position=(guint64)0, duration=(guint64)18446744073709551615;';
  return toFrame({ kind: 'event', eventType: EVENT_TYPES.segment, structure: `GstEventSegment, segment=(GstSegment)"${seg}";` });
}

export function rawAudioCaps(rate: number, channels: number): string {
  return `audio/x-raw, format=(string)S16LE, layout=(string)interleaved, rate=(int)${rate}, channels=(int)${channels}`;
}

export interface AudioFormat {
  media: string;
  format: string | undefined;
  rate: number;
  channels: number;
}

export function audioFormat(caps: GstCaps): AudioFormat | null {
  const s = caps.first;
  if (!s) return null;
  const rate = s.getNumber('rate');
  const channels = s.getNumber('channels');
  if (!rate || !channels) return null;
  return { media: s.name, format: s.getString('format'), rate, channels };
}
