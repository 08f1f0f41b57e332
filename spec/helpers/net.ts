// Real loopback sockets for transport tests: a server whose connections are handed to a
// callback, and clients that record what they receive.
import * as net from 'net';

export async function listen(onSocket: (s: net.Socket) => void): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port };
}

export interface Reader {
  socket: net.Socket;
  chunks: Buffer[];
  bytes: number;
  closed: Promise<void>;
  data(): Buffer;
}

export function connect(port: number): Promise<Reader> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const r: Reader = {
      socket,
      chunks: [],
      bytes: 0,
      closed: new Promise((res) => socket.once('close', () => res())),
      data: () => Buffer.concat(r.chunks),
    };
    socket.on('data', (d) => {
      r.chunks.push(d);
      r.bytes += d.length;
    });
    socket.once('connect', () => resolve(r));
    socket.once('error', reject);
  });
}

/** Polls `cond` (running `probe` before each look, when given) until it holds or time runs out. */
export async function waitFor(cond: () => boolean, timeoutMs = 10000, what = 'condition', probe?: () => Promise<void>): Promise<void> {
  const start = Date.now();
  for (;;) {
    if (probe) await probe();
    if (cond()) return;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, probe ? 100 : 5));
  }
}
