// GDP 1.0 packet model and header layout (see shared/reference, part A). Pure data, no I/O.
// Time and offset fields are bigint, with GStreamer's "none" (all ones) as null; never a float.

export const GDP_HEADER_LENGTH = 62;
export const GDP_PAYLOAD_TYPE = { NONE: 0, BUFFER: 1, CAPS: 2, EVENT_BASE: 64 } as const;
export const GDP_FLAG = { CRC_HEADER: 0x01, CRC_PAYLOAD: 0x02 } as const;

/** Buffer flags gdppay carries (mask 0x2c50); a decoder keeps whatever 16 bits are on the wire. */
export const BUFFER_FLAG = {
  LIVE: 0x0010,
  DISCONT: 0x0040,
  HEADER: 0x0400,
  GAP: 0x0800,
  DELTA_UNIT: 0x2000,
} as const;
export const BUFFER_FLAGS_CARRIED = 0x2c50;

/** Header byte offsets. */
export const H = {
  MAJOR: 0,
  MINOR: 1,
  FLAGS: 2,
  PAYLOAD_TYPE: 4,
  LENGTH: 6,
  PTS: 10,
  DURATION: 18,
  OFFSET: 26,
  OFFSET_END: 34,
  BUFFER_FLAGS: 42,
  DTS: 44,
  HEADER_CRC: 58,
  PAYLOAD_CRC: 60,
} as const;

export const NONE64 = 0xffffffffffffffffn;

export interface GdpBufferPacket {
  readonly kind: 'buffer';
  readonly pts: bigint | null;
  readonly dts: bigint | null;
  readonly duration: bigint | null;
  readonly offset: bigint | null;
  readonly offsetEnd: bigint | null;
  /** GstBufferFlags, low 16 bits. */
  readonly flags: number;
  readonly data: Uint8Array;
}

export interface GdpCapsPacket {
  readonly kind: 'caps';
  /** gst_caps_to_string() text, without the trailing NUL. */
  readonly caps: string;
}

export interface GdpEventPacket {
  readonly kind: 'event';
  /** GstEventType number as it travels (see wireEventType). */
  readonly eventType: number;
  /** gst_structure_to_string() text without the NUL, or null for an event without structure. */
  readonly structure: string | null;
}

export type GdpPacket = GdpBufferPacket | GdpCapsPacket | GdpEventPacket;

/** CRC settings of one packet, as gdppay's crc-header / crc-payload properties. */
export interface GdpCrcOptions {
  readonly crcHeader?: boolean;
  readonly crcPayload?: boolean;
}

export function bufferPacket(fields: Partial<Omit<GdpBufferPacket, 'kind'>> & { data: Uint8Array }): GdpBufferPacket {
  return {
    kind: 'buffer',
    pts: fields.pts ?? null,
    dts: fields.dts ?? null,
    duration: fields.duration ?? null,
    offset: fields.offset ?? null,
    offsetEnd: fields.offsetEnd ?? null,
    flags: fields.flags ?? 0,
    data: fields.data,
  };
}
