// Error codes of the transport layer (sockets, files, recordings). Errors are FluxErrors
// (protocol/errors.ts) carrying one of these codes.

export const TRANSPORT_ERROR_CODES = {
  DISK_FULL: 'FLUX_DISK_FULL',
  DISK_WRITE_FAILED: 'FLUX_DISK_WRITE_FAILED',
  DISK_OPEN_FAILED: 'FLUX_DISK_OPEN_FAILED',
  DISK_BAD_TEMPLATE: 'FLUX_DISK_BAD_TEMPLATE',
} as const;
