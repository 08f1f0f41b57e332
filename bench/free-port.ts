// A free TCP port on 127.0.0.1 for the benchmarks' and tests' servers. A port handed out is not
// handed out again by this process for a while (the OS may offer it again before whoever got it
// binds it), so two calls in a row never give the same port.
import * as net from 'net';

const recent: number[] = [];
const RECENT = 256;

export async function freePort(): Promise<number> {
  for (;;) {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise((r) => s.close(r));
    if (recent.includes(port)) continue;
    recent.push(port);
    if (recent.length > RECENT) recent.shift();
    return port;
  }
}
