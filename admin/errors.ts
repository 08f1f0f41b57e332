// Error codes of the operator's surface (HTTP API, metrics, web admin). Every refusal of the
// API is JSON `{ "error": { "code": CODE, "message": ... } }` with one of these codes, or the
// manager's own (PROTOCOL_ERROR_CODES.MANAGER_*: no such component, bad state...).

export const API_ERROR_CODES = {
  UNAUTHORIZED: 'FLUX_API_UNAUTHORIZED',
  FORBIDDEN: 'FLUX_API_FORBIDDEN',
  NOT_FOUND: 'FLUX_API_NOT_FOUND',
  METHOD_NOT_ALLOWED: 'FLUX_API_METHOD_NOT_ALLOWED',
  BAD_REQUEST: 'FLUX_API_BAD_REQUEST',
  TOO_MANY_ATTEMPTS: 'FLUX_API_TOO_MANY_ATTEMPTS',
  INTERNAL: 'FLUX_API_INTERNAL',
} as const;
