// Icecast's public status, `GET /status-json.xsl`, as Icecast 2.4 writes it: `{"icestats":
// {admin, host, location, server_id, server_start, server_start_iso8601, source}}` where `source`
// is one object for one mount, an array for several, and absent (then `dummy: null`) for none; names,
// order, types and defaults (`Unspecified name`, `various`...) are Icecast's own (checked
// against a real icecast2's output in spec/transport/http/icestats.spec.ts). It shows only what
// Icecast shows anyone. Builds the document and writes the answer; knows nothing of streamers.

import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

export const ICESTATS_PATH = '/status-json.xsl';

/** What one mount shows publicly. */
export interface IcestatsSource {
  mount: string;
  listenurl: string;
  listeners: number;
  listenerPeak: number;
  name?: string;
  description?: string;
  genre?: string;
  /** Content-Type of the stream. */
  type: string;
  /** kbit/s, when known. */
  bitrate?: number;
  /** The latest title, when the stream gave one. */
  title?: string;
  /** When the current stream started (ms since the epoch). */
  streamStart: number;
}

/** What the server says of itself. */
export interface IcestatsServer {
  host: string;
  /** When the server (the streamer's or porter's port) started (ms since the epoch). */
  start: number;
  admin?: string;
  location?: string;
}

/** Where a mount is listened to: the scheme, host and port it is reached at, and its path. */
export function listenUrl(via: { scheme: 'http' | 'https'; host: string; port: number }, mount: string): string {
  return `${via.scheme}://${via.host}:${via.port}${mount}`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** `Thu, 03 Dec 2026 09:22:10 +0000`, as Icecast writes `server_start` and `stream_start` (UTC). */
export function icecastDate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** `2026-12-03T09:22:10+0000`, as Icecast writes the `*_iso8601` fields (UTC). */
export function icecastIso(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+0000`;
}

let version: string | null = null;
/** `fluxcast <version>` (from package.json, beside the sources or the compiled files). */
function serverId(): string {
  if (version === null) {
    version = '';
    for (const f of [path.resolve(__dirname, '../../package.json'), path.resolve(__dirname, '../../../package.json')]) {
      try {
        const pkg = JSON.parse(fs.readFileSync(f, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'fluxcast' && pkg.version) {
          version = pkg.version;
          break;
        }
      } catch {
        // not here
      }
    }
  }
  return version ? `fluxcast ${version}` : 'fluxcast';
}

/** One `source` entry, keys in Icecast's order (alphabetical, `dummy` last). */
export function icestatsEntry(s: IcestatsSource): Record<string, string | number | null> {
  const e: Record<string, string | number | null> = {};
  if (s.bitrate !== undefined && s.bitrate > 0) e.bitrate = Math.round(s.bitrate);
  e.genre = s.genre || 'various';
  e.listener_peak = s.listenerPeak;
  e.listeners = s.listeners;
  e.listenurl = s.listenurl;
  e.server_description = s.description || 'Unspecified description';
  e.server_name = s.name || 'Unspecified name';
  e.server_type = s.type;
  e.stream_start = icecastDate(s.streamStart);
  e.stream_start_iso8601 = icecastIso(s.streamStart);
  if (s.title) e.title = s.title;
  e.dummy = null;
  return e;
}

/** The whole document for these mounts (sorted by mount). */
export function icestatsDocument(server: IcestatsServer, sources: IcestatsSource[]): { icestats: Record<string, unknown> } {
  const list = [...sources].sort((a, b) => a.mount.localeCompare(b.mount)).map(icestatsEntry);
  const icestats: Record<string, unknown> = {
    admin: server.admin ?? '',
    host: server.host,
    location: server.location ?? '',
    server_id: serverId(),
    server_start: icecastDate(server.start),
    server_start_iso8601: icecastIso(server.start),
  };
  // As Icecast's stylesheet writes it: `dummy` closes the last object, the source entry when there is one.
  if (list.length === 1) icestats.source = list[0];
  else if (list.length > 1) icestats.source = list;
  else icestats.dummy = null;
  return { icestats };
}

/** Answers a GET (body) or HEAD (headers only) for the document, then closes; returns the body's length. */
export function answerIcestats(socket: net.Socket, method: string, doc: unknown, corsOrigin: string | undefined): number {
  const body = Buffer.from(JSON.stringify(doc), 'utf8');
  const head = [
    'HTTP/1.0 200 OK',
    'Content-Type: application/json; charset=UTF-8',
    `Content-Length: ${body.length}`,
    'Cache-Control: no-cache, no-store',
    'Expires: Mon, 26 Jul 1997 05:00:00 GMT',
    'Pragma: no-cache',
    'Connection: close',
    'Server: fluxcast',
    ...(corsOrigin ? [`Access-Control-Allow-Origin: ${corsOrigin}`] : []),
  ];
  const headOnly = method === 'HEAD';
  socket.end(headOnly ? head.join('\r\n') + '\r\n\r\n' : Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1'), body]));
  return headOnly ? 0 : body.length;
}
