// The one way an HTTP server of fluxcast refuses a request: a short text/plain answer with the
// status, the reason phrase and a message, `Connection: close`, then the socket is ended (and
// destroyed shortly after if the peer never closes its side, so a refused peer holds nothing).

import * as net from 'net';

export const REASON_PHRASE: Record<number, string> = {
  200: 'OK', 302: 'Found', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 414: 'URI Too Long', 415: 'Unsupported Media Type', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 503: 'Service Unavailable', 505: 'HTTP Version Not Supported',
};

/** How long a refused peer may take to close its side before its socket is destroyed (ms). */
export const REFUSAL_LINGER_MS = 2000;

export function refuse(socket: net.Socket, status: number, message: string, extra: Record<string, string> = {}, headOnly = false): void {
  const body = `${status} ${REASON_PHRASE[status] ?? ''}: ${message}\n`;
  const lines = [`HTTP/1.0 ${status} ${REASON_PHRASE[status] ?? 'Error'}`, 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'];
  for (const [k, v] of Object.entries(extra)) lines.push(`${k}: ${v}`);
  if (!socket.destroyed) socket.end(lines.join('\r\n') + '\r\n\r\n' + (headOnly ? '' : body));
  socket.resume();
  setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
}
