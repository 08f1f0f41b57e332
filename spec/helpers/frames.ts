// Small GDP frames for feed tests: a stream-start, raw audio caps and 160-byte buffers.
import { GdpFrame, toFrame } from '../../protocol/gdp';

export function streamStart(id: string): GdpFrame {
  return toFrame({ kind: 'event', eventType: 10254, structure: `GstEventStreamStart, stream-id=(string)${id};` });
}
export const caps = (rate: number): GdpFrame => toFrame({ kind: 'caps', caps: `audio/x-raw, format=(string)S16LE, rate=(int)${rate}, channels=(int)1` });
export const buffer = (i: number): GdpFrame => toFrame({ kind: 'buffer', pts: i * 1e7, dts: null, duration: 1e7, offset: null, offsetEnd: null, flags: 0, data: Buffer.alloc(160, i) });
