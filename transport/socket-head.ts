// Reads the head a new connection must send first (an HTTP request head, a feed handshake
// line) with a deadline: bytes are collected until `parse` finds a complete head, rejects the
// input, or time runs out. Exactly one of onHead / onError / onTimeout is called, and onDone
// always, once; after that the socket's data is no longer read here.

import * as net from 'net';

export interface HeadReader<T> {
  timeoutMs: number;
  /** The head and the bytes after it, or null while it is incomplete; throws on bad input. */
  parse(buffered: Buffer): { head: T; rest: Buffer } | null;
  onHead(head: T, rest: Buffer): void;
  onError(err: Error): void;
  onTimeout(): void;
  /** Called once however the reading ended (also when the peer closed first). */
  onDone(): void;
}

export function readHead<T>(socket: net.Socket, r: HeadReader<T>): void {
  let buffered: Buffer = Buffer.alloc(0);
  let done = false;
  const finish = (): boolean => {
    if (done) return false;
    done = true;
    clearTimeout(timer);
    // Nothing of the head reader stays attached: a long-lived listener keeps no closure of it.
    socket.removeListener('data', onData);
    socket.removeListener('error', onError);
    socket.removeListener('close', onClose);
    r.onDone();
    return true;
  };
  const timer = setTimeout(() => finish() && r.onTimeout(), r.timeoutMs);
  const onData = (chunk: Buffer) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    let found: { head: T; rest: Buffer } | null;
    try {
      found = r.parse(buffered);
    } catch (e) {
      if (finish()) r.onError(e as Error);
      return;
    }
    if (found && finish()) r.onHead(found.head, found.rest);
  };
  const onError = () => {
    if (finish()) socket.destroy();
  };
  const onClose = () => finish();
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('close', onClose);
}
