// A hand-made feed server for tests: it speaks the handshake (with the given secret, right or
// wrong, and a START line saying nothing was queued) and then lets the test write whatever it
// wants on the socket: bad GDP, a fake stream.
import * as net from 'net';
import { FEED_HANDSHAKE_VERSION, parseLine, requestSchema, serverProof, takeLine } from '../../protocol/feed-handshake';

export async function rawFeedServer(secret: string, then: (socket: net.Socket) => void): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer((s) => {
    const challenge = '0123456789abcdef0123456789abcdef';
    s.on('error', () => undefined);
    s.write(JSON.stringify({ v: FEED_HANDSHAKE_VERSION, challenge }) + '\n');
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const taken = takeLine(buf);
      if (!taken) return;
      s.removeListener('data', onData);
      const req = parseLine(requestSchema, taken.line);
      if (!req) return void s.destroy();
      s.write(JSON.stringify({ ok: true, proof: serverProof(secret, challenge, req) }) + '\n');
      s.write(JSON.stringify({ stream: 'raw', from: 0, head: null, prime: 0, lost: 0, idleMs: null }) + '\n');
      then(s);
    };
    s.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as net.AddressInfo).port };
}
