// Fault injection for chaos tests, off unless asked for: with FLUXCAST_FAULT_SOCKET=PATH in its
// environment, a manager or worker process listens on that unix socket (mode 0600, its owner
// only) for lines of JSON `{"path": ["components", "/flow/name", "core"], "msg": {...}}` and
// sends each message to the actor at that path of its live tree, through the same bounded
// mailboxes as everything else; it answers each line with `{"ok": true|false}`. An unknown
// message makes that actor crash, which is the point. `{"gc": true}` answers the process's
// memory after a full garbage collection (when started with --expose-gc), for leak checks.
// Never set in production.

import * as fs from 'fs';
import * as net from 'net';
import { z } from 'zod';

const lineSchema = z.union([z.object({ path: z.array(z.string().max(300)).max(16), msg: z.unknown() }).strict(), z.object({ gc: z.literal(true) }).strict()]);
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
        let answer: Record<string, unknown>;
        try {
          const p = lineSchema.safeParse(JSON.parse(line));
          if (p.success && 'gc' in p.data) {
            const gc = (globalThis as { gc?: () => void }).gc;
            gc?.();
            answer = { ok: !!gc, ...process.memoryUsage() };
          } else answer = { ok: p.success && 'path' in p.data && sendAt(p.data.path, p.data.msg) };
        } catch {
          answer = { ok: false };
        }
        s.write(JSON.stringify(answer) + '\n');
      }
    });
  });
  server.listen(file, () => fs.chmodSync(file, 0o600));
  server.unref();
  return () => server.close();
}
