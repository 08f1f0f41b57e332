// How many bytes each of our TCP connections still has in the kernel, unacknowledged by its
// peer (Linux: the tx_queue column of /proc/net/tcp and /proc/net/tcp6). A listener that stopped
// reading shows it at once, while the kernel may otherwise absorb megabytes on its behalf before
// a write ever pushes back. Read asynchronously, filtered by our local ports while scanning.
// Elsewhere (no /proc) it answers null and callers fall back to write backpressure.

import * as fs from 'fs';
import * as net from 'net';

/** The key of a connection: local port, remote address (IPv4-mapped IPv6 as plain IPv4) and port. */
export function connectionKey(localPort: number, remoteAddress: string, remotePort: number): string {
  return `${localPort}|${remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress}|${remotePort}`;
}

export function socketKey(s: net.Socket): string | null {
  if (s.localPort === undefined || s.remotePort === undefined || !s.remoteAddress) return null;
  return connectionKey(s.localPort, s.remoteAddress, s.remotePort);
}

function hexIPv4(h: string): string {
  // /proc writes the 32-bit address in host order (little-endian here): 0100007F is 127.0.0.1.
  return [6, 4, 2, 0].map((i) => parseInt(h.slice(i, i + 2), 16)).join('.');
}

function hexIPv6(h: string): string {
  const words: string[] = [];
  for (let w = 0; w < 4; w++) {
    const g = h.slice(w * 8, w * 8 + 8);
    const le = g.slice(6, 8) + g.slice(4, 6) + g.slice(2, 4) + g.slice(0, 2);
    words.push(le.slice(0, 4), le.slice(4, 8));
  }
  if (words.slice(0, 5).every((x) => x === '0000') && words[5] === 'ffff') {
    const v4 = words[6] + words[7];
    return [0, 2, 4, 6].map((i) => parseInt(v4.slice(i, i + 2), 16)).join('.');
  }
  return words.map((x) => parseInt(x, 16).toString(16)).join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** Parses /proc/net/tcp text: connection key → bytes not yet acknowledged, for our local ports only. */
export function parseProcNetTcp(text: string, localPorts: ReadonlySet<number>, v6: boolean): Map<string, number> {
  const out = new Map<string, number>();
  let at = text.indexOf('\n') + 1; // the header line
  while (at > 0 && at < text.length) {
    const end = text.indexOf('\n', at);
    const line = text.slice(at, end < 0 ? text.length : end);
    at = end < 0 ? text.length : end + 1;
    // "  sl  local_address rem_address   st tx_queue:rx_queue ..."
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const [lAddr, lPortHex] = f[1].split(':');
    const localPort = parseInt(lPortHex, 16);
    if (!localPorts.has(localPort) || !lAddr) continue;
    const [rAddr, rPortHex] = f[2].split(':');
    const tx = parseInt(f[4].split(':')[0], 16);
    out.set(connectionKey(localPort, v6 ? hexIPv6(rAddr) : hexIPv4(rAddr), parseInt(rPortHex, 16)), tx);
  }
  return out;
}

let available: boolean | null = null;

/** Bytes each connection on `localPorts` still has unacknowledged; null where /proc/net/tcp is not there. */
export async function tcpBacklogs(localPorts: ReadonlySet<number>): Promise<Map<string, number> | null> {
  if (available === false || localPorts.size === 0) return available === false ? null : new Map();
  const read = (file: string) => fs.promises.readFile(file, 'latin1').catch(() => null);
  const [v4, v6] = await Promise.all([read('/proc/net/tcp'), read('/proc/net/tcp6')]);
  if (v4 === null && v6 === null) {
    available = false;
    return null;
  }
  available = true;
  const out = v4 ? parseProcNetTcp(v4, localPorts, false) : new Map<string, number>();
  if (v6) for (const [k, v] of parseProcNetTcp(v6, localPorts, true)) out.set(k, v);
  return out;
}
