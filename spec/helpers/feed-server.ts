// A hand-made feed server for tests: it speaks the handshake (with the given secret, right or
// wrong) and then lets the test write whatever it wants on the socket: bad GDP, a fake stream.
import * as net from 'net';
import { parseLine, requestSchema, serverProof, takeLine } from '../../protocol/feed-handshake';

export async function rawFeedServer(secret: string, then: (socket: net.Socket) => void): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer((s) => {
    const challenge = '0123456789abcdef0123456789abcdef';
    s.on('error', () => undefined);
    s.write(JSON.stringify({ v: 1, challenge }) + '\n');
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const taken = takeLine(buf);
      if (!taken) return;
      s.removeListener('data', onData);
      const req = parseLine(requestSchema, taken.line);
      if (!req) return void s.destroy();
      s.write(JSON.stringify({ ok: true, proof: serverProof(secret, challenge, req) }) + '\n');
      then(s);
    };
    s.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as net.AddressInfo).port };
}
