// Binding a listening socket, with the failures an operator can act on turned into coded
// errors: `error FLUX_MANAGER_ADDRESS_IN_USE: 127.0.0.1:7531 is in use (another manager?)`.
// A range of ports (Flumotion's feederports) takes the first one that is free.

import * as net from 'net';
import { FluxError } from '../protocol/errors';
import { LISTEN_ERROR_CODES } from './errors';

export interface ListenTarget {
  host: string;
  /** One port (0 = any free one), or an inclusive range tried in order. */
  port: number | { from: number; to: number };
}

export interface ListenWords {
  inUse: string;
  cannotListen: string;
  /** The hint after "is in use", e.g. "another manager?". */
  hint: string;
  /** For a range: the error when every port is taken, and the flag that pins one. */
  noFreePort?: string;
  flag?: string;
}

function bindOnce(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => {
      server.removeListener('listening', onListening);
      reject(e);
    };
    const onListening = () => {
      server.removeListener('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** Listens on the target; resolves with the bound port, rejects with a coded FluxError. */
export async function listenOn(server: net.Server, t: ListenTarget, words: ListenWords): Promise<number> {
  const ports = typeof t.port === 'number' ? [t.port] : Array.from({ length: t.port.to - t.port.from + 1 }, (_, i) => (t.port as { from: number }).from + i);
  for (const port of ports) {
    try {
      await bindOnce(server, t.host, port);
      return (server.address() as net.AddressInfo).port;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' && typeof t.port !== 'number') continue;
      if (code === 'EADDRINUSE') throw new FluxError(words.inUse, `${t.host}:${port} is in use (${words.hint})`);
      throw new FluxError(words.cannotListen, `cannot listen on ${t.host}:${port}: ${code ?? (e as Error).message}`);
    }
  }
  const r = t.port as { from: number; to: number };
  throw new FluxError(words.noFreePort ?? words.inUse, `no free port in ${r.from}-${r.to} on ${t.host}${words.flag ? ` (pin one with ${words.flag})` : ''}`);
}

export const MANAGER_LISTEN: ListenWords = { inUse: LISTEN_ERROR_CODES.MANAGER_ADDRESS_IN_USE, cannotListen: LISTEN_ERROR_CODES.MANAGER_CANNOT_LISTEN, hint: 'another manager?' };
export const FEED_LISTEN: ListenWords = {
  inUse: LISTEN_ERROR_CODES.FEED_ADDRESS_IN_USE,
  cannotListen: LISTEN_ERROR_CODES.FEED_CANNOT_LISTEN,
  hint: 'another worker? choose one with --feed-port',
  noFreePort: LISTEN_ERROR_CODES.FEED_NO_FREE_PORT,
  flag: '--feed-port',
};
export const HTTP_LISTEN: ListenWords = { inUse: LISTEN_ERROR_CODES.HTTP_ADDRESS_IN_USE, cannotListen: LISTEN_ERROR_CODES.HTTP_CANNOT_LISTEN, hint: 'another streamer or server?' };
