// One access log line per finished listener: Apache "combined" format plus the seconds the
// listener stayed connected (as Flumotion's http-streamer logged).

import { RequestHead } from '../../protocol/http/request-head';

export interface AccessLogEntry {
  ip: string;
  user: string;
  time: Date;
  method: string;
  target: string;
  version: string;
  status: number;
  bytes: number;
  referer: string;
  userAgent: string;
  secondsConnected: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** `[22/Nov/2026:04:30:00 +0000]`, always in UTC. */
export function apacheTime(d: Date): string {
  return `[${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000]`;
}

/** Quotes a request-supplied value, escaping backslashes, quotes and control characters. */
function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '\\' || ch === '"') out += '\\' + ch;
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/** Query parameters whose values are credentials: never written to a log. */
const CREDENTIAL_PARAMS = /^(token|access_token|auth|key|api_key|apikey|password|pass|passwd|secret|sig|signature)$/i;

/** The request target with the values of credential parameters replaced by REDACTED. */
export function redactTarget(target: string): string {
  const q = target.indexOf('?');
  if (q < 0) return target;
  const parts = target.slice(q + 1).split('&').map((kv) => {
    const eq = kv.indexOf('=');
    const key = eq < 0 ? kv : kv.slice(0, eq);
    let name = key;
    try {
      name = decodeURIComponent(key);
    } catch {
      // a malformed name is kept as it is
    }
    return eq >= 0 && CREDENTIAL_PARAMS.test(name) ? `${key}=REDACTED` : kv;
  });
  return `${target.slice(0, q)}?${parts.join('&')}`;
}

/** A request as its access log line needs it (served or refused). */
export interface LoggedRequest {
  head: RequestHead;
  socket: { remoteAddress?: string };
  user: string;
  status: number;
  /** ms since the epoch */
  startedAt: number;
}

const NO_HEADERS: Map<string, string> = new Map();
const NO_QUERY = new URLSearchParams();

/** The parts of a request head an access log line uses (nothing when there is no log): a listener may stay for days. */
export function slimHead(h: RequestHead, forLog: boolean): RequestHead {
  const headers = forLog ? new Map([...h.headers].filter(([k]) => k === 'referer' || k === 'user-agent')) : NO_HEADERS;
  return { method: h.method, target: forLog ? h.target : '', path: '', query: NO_QUERY, version: h.version, headers };
}

/** The line of a request that sent `bytes` and ended at `end` (ms since the epoch). */
export function requestLogLine(l: LoggedRequest, bytes: number, end: number): string {
  return formatAccessLog({
    ip: l.socket.remoteAddress ?? '-',
    user: l.user,
    time: new Date(l.startedAt),
    method: l.head.method,
    target: l.head.target,
    version: l.head.version,
    status: l.status,
    bytes,
    referer: l.head.headers.get('referer') ?? '-',
    userAgent: l.head.headers.get('user-agent') ?? '-',
    secondsConnected: Math.max(0, (end - l.startedAt) / 1000),
  });
}

export function formatAccessLog(e: AccessLogEntry): string {
  return (
    `${e.ip} - ${e.user} ${apacheTime(e.time)} ${quote(`${e.method} ${redactTarget(e.target)} HTTP/${e.version}`)} ${e.status} ${e.bytes} ` +
    `${quote(e.referer)} ${quote(e.userAgent)} ${e.secondsConnected.toFixed(3)}`
  );
}
