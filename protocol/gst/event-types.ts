// GStreamer 1.x GstEventType numbers and names (gstevent.h), and what the GDP payload type of
// each becomes on the wire (64 + type, truncated to 16 bits as gdppay really does).

export const EVENT_TYPE_FLAG = {
  UPSTREAM: 0x01,
  DOWNSTREAM: 0x02,
  SERIALIZED: 0x04,
  STICKY: 0x08,
  STICKY_MULTI: 0x10,
} as const;

/** GstEventType values by GStreamer's own name (gst_event_type_get_name). */
export const EVENT_TYPES = {
  'flush-start': 2563,
  'flush-stop': 5127,
  'stream-start': 10254,
  caps: 12814,
  segment: 17934,
  'stream-collection': 19230,
  tag: 20510,
  buffersize: 23054,
  'sink-message': 25630,
  'stream-group-done': 26894,
  eos: 28174,
  toc: 30750,
  protection: 33310,
  'segment-done': 38406,
  gap: 40966,
  'instant-rate-change': 46090,
  qos: 48641,
  seek: 51201,
  navigation: 53761,
  latency: 56321,
  step: 58881,
  reconfigure: 61441,
  'toc-select': 64001,
  'select-streams': 66561,
  'instant-rate-sync-time': 66817,
  'custom-upstream': 69121,
  'custom-downstream': 71686,
  'custom-downstream-oob': 74242,
  'custom-downstream-sticky': 76830,
  'custom-both': 79367,
  'custom-both-oob': 81923,
} as const;

export type EventTypeName = keyof typeof EVENT_TYPES;

const NAMES = new Map<number, string>(Object.entries(EVENT_TYPES).map(([k, v]) => [v, k]));

/** GStreamer's name for an event type number; 'unknown' for numbers it does not know (as fakesink prints). */
export function eventTypeName(type: number): string {
  return NAMES.get(type) ?? 'unknown';
}

/**
 * The event type a GDP 1.0 decoder sees for `type`: gdppay stores 64 + type in a 16-bit field,
 * so numbers whose payload type exceeds 0xffff (custom events, select-streams,
 * instant-rate-sync-time) lose their high bits. GStreamer 1.22 really does this; we mimic it.
 */
export function wireEventType(type: number): number {
  return ((type + 64) & 0xffff) - 64;
}

export function isSticky(type: number): boolean {
  return (type & EVENT_TYPE_FLAG.STICKY) !== 0;
}

export function isStickyMulti(type: number): boolean {
  return (type & EVENT_TYPE_FLAG.STICKY_MULTI) !== 0;
}
