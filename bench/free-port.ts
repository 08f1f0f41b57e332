// A free TCP port on 127.0.0.1 for the benchmarks' and tests' servers. Taken below the
// system's ephemeral range (where outgoing connections get their local ports, and where a
// `listen(0)` would pick), so that no client socket of the processes under test can be holding
// it by the time its server binds it; checked bindable, and never handed out twice by this process.
import * as fs from 'fs';
import * as net from 'net';

const recent = new Set<number>();

/** The first port of the system's ephemeral range (Linux), or 32768. */
function ephemeralStart(): number {
  try {
    const n = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(n) && n > 2048 ? n : 32768;
  } catch {
    return 32768;
  }
}

const LOW = 10000;
const HIGH = Math.max(LOW + 1000, ephemeralStart());

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let i = 0; i < 1000; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (recent.has(port)) continue;
    if (!(await bindable(port))) continue;
    recent.add(port);
    return port;
  }
  throw new Error(`no free port between ${LOW} and ${HIGH}`);
}
