// Parser of an HTTP/1.x request head (request line and headers), for the streaming server.
// Pure and bounded: refuses oversized or malformed input with the status code to answer.
// Invariant: never reads past maxHeaderBytes; header names are lower-cased.

import { FluxError, PROTOCOL_ERROR_CODES as C } from '../errors';

const HTTP_ERROR_CODES = {
  BAD_REQUEST: C.HTTP_BAD_REQUEST,
  URI_TOO_LONG: C.HTTP_URI_TOO_LONG,
  HEADERS_TOO_LARGE: C.HTTP_HEADERS_TOO_LARGE,
  BAD_VERSION: C.HTTP_BAD_VERSION,
} as const;

export class HttpRequestError extends FluxError {
  constructor(
    code: (typeof HTTP_ERROR_CODES)[keyof typeof HTTP_ERROR_CODES],
    readonly status: 400 | 414 | 431 | 505,
    message: string,
  ) {
    super(code, message);
    this.name = 'HttpRequestError';
  }
}

export interface RequestHead {
  method: string;
  target: string;
  path: string;
  query: URLSearchParams;
  version: '1.0' | '1.1';
  headers: Map<string, string>;
}

export interface RequestHeadLimits {
  maxHeaderBytes: number;
  maxUrlLength: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Looks for a complete head at the start of `data`. Returns null when more bytes are needed,
 * the head and the number of bytes it took when complete, and throws HttpRequestError otherwise.
 */
export function parseRequestHead(data: Buffer, limits: RequestHeadLimits): { head: RequestHead; length: number } | null {
  let end = data.indexOf('\r\n\r\n');
  let sep = 4;
  if (end < 0) {
    end = data.indexOf('\n\n');
    sep = 2;
  }
  const firstLineEnd = data.indexOf('\n');
  if (firstLineEnd < 0 && data.length > limits.maxUrlLength + 16) {
    throw new HttpRequestError(HTTP_ERROR_CODES.URI_TOO_LONG, 414, 'request line too long');
  }
  if (end < 0) {
    if (data.length > limits.maxHeaderBytes) throw new HttpRequestError(HTTP_ERROR_CODES.HEADERS_TOO_LARGE, 431, 'request head too large');
    return null;
  }
  if (end + sep > limits.maxHeaderBytes) throw new HttpRequestError(HTTP_ERROR_CODES.HEADERS_TOO_LARGE, 431, 'request head too large');
  const text = data.toString('latin1', 0, end);
  const lines = text.split(/\r?\n/);
  const m = /^([A-Z]+) (\S+) HTTP\/(\d)\.(\d)$/.exec(lines[0]);
  if (!m) throw new HttpRequestError(HTTP_ERROR_CODES.BAD_REQUEST, 400, 'malformed request line');
  const [, method, target, major, minor] = m;
  if (target.length > limits.maxUrlLength) throw new HttpRequestError(HTTP_ERROR_CODES.URI_TOO_LONG, 414, 'request target too long');
  if (major !== '1' || (minor !== '0' && minor !== '1')) {
    throw new HttpRequestError(HTTP_ERROR_CODES.BAD_VERSION, 505, `HTTP/${major}.${minor} is not supported`);
  }
  if (!target.startsWith('/')) throw new HttpRequestError(HTTP_ERROR_CODES.BAD_REQUEST, 400, 'request target must be a path');
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HttpRequestError(HTTP_ERROR_CODES.BAD_REQUEST, 400, `malformed header line ${i}`);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new HttpRequestError(HTTP_ERROR_CODES.BAD_REQUEST, 400, `invalid header name on line ${i}`);
    const value = line.slice(colon + 1).trim();
    const key = name.toLowerCase();
    headers.set(key, headers.has(key) ? `${headers.get(key)}, ${value}` : value);
  }
  const q = target.indexOf('?');
  let path: string;
  try {
    path = decodeURIComponent(q < 0 ? target : target.slice(0, q));
  } catch {
    throw new HttpRequestError(HTTP_ERROR_CODES.BAD_REQUEST, 400, 'malformed percent-encoding in path');
  }
  const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
  return { head: { method, target, path, query, version: minor === '0' ? '1.0' : '1.1', headers }, length: end + sep };
}
