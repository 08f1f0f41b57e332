// Runs real fluxcast processes (the built CLI) for end-to-end tests: a manager and workers
// from a planet file with free ports, and a way to read the manager's status.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { adminRequest } from '../../transport/admin-client';
import { StatusJson } from '../../protocol/status';
import { CLI } from './cli';

/** The workers' secret and the admins' secret of the test planets (at least 16 characters each). */
export const SECRET = 'e2e-test-worker-secret';
export const ADMIN_SECRET = 'e2e-test-admin-secret';

export { freePort } from '../../bench/free-port';

export interface Proc {
  child: ChildProcess;
  log: string[];
  exited: Promise<number | null>;
}

export function run(args: string[], env: Record<string, string> = {}, wrap: string[] = []): Proc {
  const log: string[] = [];
  const cmd = wrap.length ? wrap[0] : process.execPath;
  const argv = wrap.length ? [...wrap.slice(1), process.execPath, CLI, ...args] : [CLI, ...args];
  const child = spawn(cmd, argv, { env: { ...process.env, FLUXCAST_SECRET: SECRET, FLUXCAST_ADMIN_SECRET: ADMIN_SECRET, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => log.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, log, exited };
}

export function writePlanet(yaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-planet-'));
  const file = path.join(dir, 'planet.yaml');
  fs.writeFileSync(file, yaml);
  return file;
}

export async function status(managerPort: number, host = '127.0.0.1'): Promise<StatusJson | null> {
  try {
    const r = await adminRequest(`ws://${host}:${managerPort}`, ADMIN_SECRET, (requestId) => ({ type: 'status-request', requestId }), 2000);
    return r.type === 'status' ? (r.status as StatusJson) : null;
  } catch {
    return null;
  }
}

export function moods(s: StatusJson | null): Record<string, string> {
  return Object.fromEntries((s?.components ?? []).map((c) => [c.name, c.mood]));
}

export async function waitForStatus(managerPort: number, pred: (s: StatusJson) => boolean, timeoutMs = 15000, what = 'status', host = '127.0.0.1'): Promise<StatusJson> {
  const deadline = Date.now() + timeoutMs;
  let last: StatusJson | null = null;
  while (Date.now() < deadline) {
    last = await status(managerPort, host);
    if (last && pred(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; last moods: ${JSON.stringify(moods(last))}, workers: ${JSON.stringify(last?.workers.map((w) => [w.name, w.connected]))}`);
}

export function seedPlanet(managerPort: number, httpPort: number, extra = ''): string {
  return `
name: seed
manager: { host: 127.0.0.1, port: ${managerPort}, secret: ${SECRET}, admin-secret: ${ADMIN_SECRET}, heartbeat-interval: 500, heartbeat-timeout: 2500 }
workers: [ { name: worker1 }, { name: worker2 } ]
flows:
  - name: default
    components:
      - { name: source, type: test-audio, worker: worker1 }
      - { name: encoder, type: mulaw-encoder, worker: worker1, eaters: { default: [source] } }
      - { name: muxer, type: wav-muxer, worker: worker2, eaters: { default: [encoder] } }
      - { name: streamer, type: http-streamer, worker: worker1, properties: { port: ${httpPort}, mount-point: /live.wav, write-interval: 50 }, eaters: { default: [muxer] } }
${extra}`;
}

export const allHappy = (s: StatusJson) => s.components.every((c) => c.mood === 'happy');
