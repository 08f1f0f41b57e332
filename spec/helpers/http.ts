// A raw HTTP client for tests: sends exactly the bytes given and collects the answer, so
// malformed and slow requests can be tested against the real server.
import * as net from 'net';

export interface RawResponse {
  socket: net.Socket;
  data: () => Buffer;
  head: () => string;
  status: () => number;
  body: () => Buffer;
  closed: Promise<void>;
}

export function rawRequest(port: number, request: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const data = () => Buffer.concat(chunks);
    const split = () => {
      const d = data();
      const i = d.indexOf('\r\n\r\n');
      return i < 0 ? [d.toString('latin1'), Buffer.alloc(0)] as const : ([d.toString('latin1', 0, i), d.subarray(i + 4)] as const);
    };
    const r: RawResponse = {
      socket,
      data,
      head: () => split()[0],
      status: () => Number(/^HTTP\/1\.\d (\d{3})/.exec(split()[0])?.[1] ?? 0),
      body: () => split()[1],
      closed: new Promise((res) => socket.once('close', () => res())),
    };
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      if (request.length) socket.write(request);
      resolve(r);
    });
    socket.once('error', reject);
  });
}

export function get(path: string, headers: Record<string, string> = {}, method = 'GET'): string {
  return `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}
