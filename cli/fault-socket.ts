// Fault injection for chaos tests, off unless asked for: with FLUXCAST_FAULT_SOCKET=PATH in its
// environment, a manager or worker process listens on that unix socket (mode 0600, its owner
// only) for lines of JSON `{"path": ["components", "/flow/name", "core"], "msg": {...}}` and
// sends each message to the actor at that path of its live tree, through the same bounded
// mailboxes as everything else; it answers each line with `{"ok": true|false}`. An unknown
// message makes that actor crash, which is the point. Never set in production.

import * as fs from 'fs';
import * as net from 'net';
import { z } from 'zod';

const lineSchema = z.object({ path: z.array(z.string().max(300)).max(16), msg: z.unknown() }).strict();
const MAX_LINE = 64 * 1024;

/** Starts the fault socket when the environment asks for it; returns its closer. */
export function faultSocket(sendAt: (path: string[], msg: unknown) => boolean, env = process.env): (() => void) | null {
  const file = env.FLUXCAST_FAULT_SOCKET;
  if (!file) return null;
  fs.rmSync(file, { force: true });
  const server = net.createServer((s) => {
    let buf = '';
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.length > MAX_LINE) return void s.destroy();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let ok: boolean;
        try {
          const p = lineSchema.safeParse(JSON.parse(line));
          ok = p.success && sendAt(p.data.path, p.data.msg);
        } catch {
          ok = false;
        }
        s.write(JSON.stringify({ ok }) + '\n');
      }
    });
  });
  server.listen(file, () => fs.chmodSync(file, 0o600));
  server.unref();
  return () => server.close();
}
