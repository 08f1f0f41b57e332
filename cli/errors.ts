// Errors of the command line: bad arguments and unreadable files, with stable codes.
import { FluxError } from '../protocol/errors';

export const CLI_ERROR_CODES = {
  BAD_ARGUMENT: 'FLUX_CLI_BAD_ARGUMENT',
  CANNOT_READ: 'FLUX_CLI_CANNOT_READ',
  CANNOT_WRITE: 'FLUX_CLI_CANNOT_WRITE',
  CANNOT_CONNECT: 'FLUX_CLI_CANNOT_CONNECT',
  NO_SECRET: 'FLUX_CLI_NO_SECRET',
  CHILD_FAILED: 'FLUX_CLI_CHILD_FAILED',
  SECRET_TOO_SHORT: 'FLUX_CLI_SECRET_TOO_SHORT',
  NO_OPENSSL: 'FLUX_CLI_NO_OPENSSL',
  OPENSSL_FAILED: 'FLUX_CLI_OPENSSL_FAILED',
  CERTS_EXIST: 'FLUX_CLI_CERTS_EXIST',
  UNCAUGHT: 'FLUX_CLI_UNCAUGHT',
} as const;

/** Prints an error the way every fluxcast command does: `error CODE: message` on stderr. */
export function reportError(err: unknown): void {
  if (err instanceof FluxError) process.stderr.write(`error ${err.code}: ${err.message}${err.path ? ` (at ${err.path})` : ''}\n`);
  else process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
}
