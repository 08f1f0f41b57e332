// Errors of the pure protocol layer (GDP, GstStructure/caps text, wire schemas).
// Every error has a stable `code` that callers and tests match on; messages may change.
// Never thrown across a process boundary: decoders return them, parsers throw them to their caller.

export class FluxError extends Error {
  readonly code: string;
  readonly path?: string;
  constructor(code: string, message: string, path?: string) {
    super(message);
    this.name = 'FluxError';
    this.code = code;
    if (path !== undefined) this.path = path;
  }
}

/** Codes of the protocol layer. Tests check that every code in every layer is unique. */
export const PROTOCOL_ERROR_CODES = {
  GDP_BAD_HEADER_CRC: 'FLUX_GDP_BAD_HEADER_CRC',
  GDP_BAD_PAYLOAD_CRC: 'FLUX_GDP_BAD_PAYLOAD_CRC',
  GDP_WRONG_PAYLOAD_TYPE: 'FLUX_GDP_WRONG_PAYLOAD_TYPE',
  GDP_PAYLOAD_TOO_LARGE: 'FLUX_GDP_PAYLOAD_TOO_LARGE',
  GDP_BUFFER_BEFORE_CAPS: 'FLUX_GDP_BUFFER_BEFORE_CAPS',
  GDP_BAD_CAPS: 'FLUX_GDP_BAD_CAPS',
  GDP_BAD_EVENT: 'FLUX_GDP_BAD_EVENT',
  GDP_TRUNCATED: 'FLUX_GDP_TRUNCATED',
  GDP_BAD_VALUE: 'FLUX_GDP_BAD_VALUE',
  GST_PARSE: 'FLUX_GST_PARSE',
  /** RTMP (protocol/rtmp, transport/rtmp, rtmp-producer): a chunk stream, AMF value or media tag we refuse. */
  RTMP_BAD_CHUNK: 'FLUX_RTMP_BAD_CHUNK',
  RTMP_MESSAGE_TOO_LARGE: 'FLUX_RTMP_MESSAGE_TOO_LARGE',
  RTMP_CHUNK_SIZE: 'FLUX_RTMP_CHUNK_SIZE',
  RTMP_TOO_MANY_CHUNK_STREAMS: 'FLUX_RTMP_TOO_MANY_CHUNK_STREAMS',
  RTMP_BAD_AMF: 'FLUX_RTMP_BAD_AMF',
  /** A publisher's video or audio codec fluxcast does not carry: the publisher is refused, the producer sad. */
  RTMP_UNSUPPORTED_CODEC: 'FLUX_RTMP_UNSUPPORTED_CODEC',
  /** A publisher that does not read what it is sent (its replies pile up). */
  RTMP_SLOW_PEER: 'FLUX_RTMP_SLOW_PEER',
  /** Two rtmp-producers on one port with the same app and stream key (at run time). */
  RTMP_ROUTE_TAKEN: 'FLUX_RTMP_ROUTE_TAKEN',
  HTTP_BAD_REQUEST: 'FLUX_HTTP_BAD_REQUEST',
  HTTP_URI_TOO_LONG: 'FLUX_HTTP_URI_TOO_LONG',
  HTTP_HEADERS_TOO_LARGE: 'FLUX_HTTP_HEADERS_TOO_LARGE',
  HTTP_BAD_VERSION: 'FLUX_HTTP_BAD_VERSION',
  FEED_BAD_HANDSHAKE: 'FLUX_FEED_BAD_HANDSHAKE',
  FEED_AUTH_FAILED: 'FLUX_FEED_AUTH_FAILED',
  FEED_UNKNOWN_FEED: 'FLUX_FEED_UNKNOWN_FEED',
  FEED_HANDSHAKE_TIMEOUT: 'FLUX_FEED_HANDSHAKE_TIMEOUT',
  FEED_REFUSED: 'FLUX_FEED_REFUSED',
  WIRE_BAD_FRAME: 'FLUX_WIRE_BAD_FRAME',
  WIRE_AUTH_FAILED: 'FLUX_WIRE_AUTH_FAILED',
  WIRE_UNKNOWN_WORKER: 'FLUX_WIRE_UNKNOWN_WORKER',
  WIRE_DUPLICATE_WORKER: 'FLUX_WIRE_DUPLICATE_WORKER',
  WIRE_NOT_LOGGED_IN: 'FLUX_WIRE_NOT_LOGGED_IN',
  WIRE_HEARTBEAT_TIMEOUT: 'FLUX_WIRE_HEARTBEAT_TIMEOUT',
  WIRE_MANAGER_UNVERIFIED: 'FLUX_WIRE_MANAGER_UNVERIFIED',
  WIRE_TOO_MANY_ATTEMPTS: 'FLUX_WIRE_TOO_MANY_ATTEMPTS',
  WIRE_FORBIDDEN: 'FLUX_WIRE_FORBIDDEN',
  FEED_SERVER_UNVERIFIED: 'FLUX_FEED_SERVER_UNVERIFIED',
  PLANET_INVALID: 'FLUX_PLANET_INVALID',
  /** Two sockets of a planet on one port of one machine (see actors/planet/port-clash.ts). */
  PLANET_PORT_CLASH: 'FLUX_PLANET_PORT_CLASH',
  /** Two streamers on one porter with the same path. */
  PLANET_MOUNT_CLASH: 'FLUX_PLANET_MOUNT_CLASH',
  /** Two components sharing a port that would answer the same clients (rtmp-producers with one app and stream key). */
  PLANET_ROUTE_CLASH: 'FLUX_PLANET_ROUTE_CLASH',
  /** A streamer's porter is not a porter of its flow on its worker. */
  PLANET_BAD_PORTER: 'FLUX_PLANET_BAD_PORTER',
  /** An http-streamer's fallback-mount: none there, itself, a cycle, or a stream that cannot switch (see actors/planet/fallback-check.ts). */
  PLANET_BAD_FALLBACK: 'FLUX_PLANET_BAD_FALLBACK',
  LAUNCH_SYNTAX: 'FLUX_LAUNCH_SYNTAX',
  /** Listings and kicks of listeners, manager ⇄ worker ⇄ admin. */
  MANAGER_NO_SUCH_COMPONENT: 'FLUX_MANAGER_NO_SUCH_COMPONENT',
  MANAGER_BAD_STATE: 'FLUX_MANAGER_BAD_STATE',
  MANAGER_NO_LISTENERS: 'FLUX_MANAGER_NO_LISTENERS',
  MANAGER_NO_ANSWER: 'FLUX_MANAGER_NO_ANSWER',
  HTTP_NO_SUCH_LISTENER: 'FLUX_HTTP_NO_SUCH_LISTENER',
} as const;

export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[keyof typeof PROTOCOL_ERROR_CODES];

/** A GStreamer structure/caps string could not be parsed; `position` is the 0-based character index. */
export class GstParseError extends FluxError {
  readonly position: number;
  constructor(message: string, position: number) {
    super(PROTOCOL_ERROR_CODES.GST_PARSE, `${message} (at character ${position})`);
    this.name = 'GstParseError';
    this.position = position;
  }
}

/** A GDP stream failed; the stream ends there. `packetIndex` counts packets delivered before it. */
export class GdpError extends FluxError {
  readonly packetIndex: number;
  readonly byteOffset: number;
  constructor(code: ProtocolErrorCode, message: string, packetIndex: number, byteOffset: number) {
    super(code, message);
    this.name = 'GdpError';
    this.packetIndex = packetIndex;
    this.byteOffset = byteOffset;
  }
}
