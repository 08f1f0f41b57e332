// The errors of the supervision layer, each a FluxError with a stable code.

import { FluxError } from '../../protocol/errors';

export const SUPERVISION_ERROR_CODES = {
  GAVE_UP: 'FLUX_SUPERVISION_GAVE_UP',
  UNKNOWN_MESSAGE: 'FLUX_SUPERVISION_UNKNOWN_MESSAGE',
} as const;

/** Thrown by an actor that received a message it does not know: a crash like any other. */
export class UnknownMessageError extends FluxError {
  constructor(actor: string, msg: unknown) {
    super(SUPERVISION_ERROR_CODES.UNKNOWN_MESSAGE, `${actor}: unknown message ${JSON.stringify((msg as { type?: unknown })?.type ?? msg)}`);
  }
}
