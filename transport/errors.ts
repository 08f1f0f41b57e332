// Error codes of the transport layer (sockets, files, recordings). Errors are FluxErrors
// (protocol/errors.ts) carrying one of these codes.

export const TRANSPORT_ERROR_CODES = {
  DISK_FULL: 'FLUX_DISK_FULL',
  DISK_WRITE_FAILED: 'FLUX_DISK_WRITE_FAILED',
  DISK_OPEN_FAILED: 'FLUX_DISK_OPEN_FAILED',
  DISK_BAD_TEMPLATE: 'FLUX_DISK_BAD_TEMPLATE',
  /** An http-streamer's intro-file: unreadable, over MAX_INTRO_BYTES, not a whole Ogg/MP3/AAC file, or not the stream's format. */
  INTRO_CANNOT_READ: 'FLUX_INTRO_CANNOT_READ',
  INTRO_TOO_LARGE: 'FLUX_INTRO_TOO_LARGE',
  INTRO_BAD_FILE: 'FLUX_INTRO_BAD_FILE',
  INTRO_FORMAT_MISMATCH: 'FLUX_INTRO_FORMAT_MISMATCH',
  /** A fallback mount that listeners cannot be moved to: not running here, or of another format. */
  FALLBACK_UNAVAILABLE: 'FLUX_FALLBACK_UNAVAILABLE',
  FALLBACK_FORMAT_MISMATCH: 'FLUX_FALLBACK_FORMAT_MISMATCH',
} as const;

/** Listening sockets: a port taken, a range exhausted, an address that cannot be bound. */
export const LISTEN_ERROR_CODES = {
  MANAGER_ADDRESS_IN_USE: 'FLUX_MANAGER_ADDRESS_IN_USE',
  MANAGER_CANNOT_LISTEN: 'FLUX_MANAGER_CANNOT_LISTEN',
  FEED_ADDRESS_IN_USE: 'FLUX_FEED_ADDRESS_IN_USE',
  FEED_NO_FREE_PORT: 'FLUX_FEED_NO_FREE_PORT',
  FEED_CANNOT_LISTEN: 'FLUX_FEED_CANNOT_LISTEN',
  HTTP_ADDRESS_IN_USE: 'FLUX_HTTP_ADDRESS_IN_USE',
  HTTP_CANNOT_LISTEN: 'FLUX_HTTP_CANNOT_LISTEN',
} as const;

/** TLS: unreadable or unusable certificates and keys, a mismatch between a worker and its planet. */
export const TLS_ERROR_CODES = {
  CANNOT_READ: 'FLUX_TLS_CANNOT_READ',
  BAD_MATERIAL: 'FLUX_TLS_BAD_MATERIAL',
  FEEDS_MISMATCH: 'FLUX_TLS_FEEDS_MISMATCH',
} as const;

/**
 * A manager address whose scheme disagrees with what the manager's port speaks: ws:// to a TLS
 * manager, wss:// to a plain one (found by asking the port, after the connection failed).
 */
export const SCHEME_ERROR_CODES = {
  MANAGER_SPEAKS_TLS: 'FLUX_CLI_MANAGER_SPEAKS_TLS',
  MANAGER_SPEAKS_PLAIN: 'FLUX_CLI_MANAGER_SPEAKS_PLAIN',
} as const;
