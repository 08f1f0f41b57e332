// `npm start` as a user runs it: the demo planet comes up, the stream plays, Ctrl-C ends it all;
// and the README's Quick start commands, read out of README.md, work against it as written.
import { exec, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { get, rawRequest } from '../helpers/http';
import { waitFor } from '../helpers/net';
import { allHappy } from '../helpers/planet';
import { adminRequest } from '../../transport/admin-client';

jest.setTimeout(60000);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const ROOT = path.resolve(__dirname, '../..');

/** The `fluxcast` admin command lines of the README's Quick start section (env assignments included). */
function quickStartCommands(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = /^## Quick start\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```/gm)]
    .flatMap((m) => m[1].split('\n'))
    .map((l) => l.trim())
    .filter((l) => /^([A-Z_]+=\S+\s+)*npx fluxcast (status|component|reload)\b/.test(l));
}

/** A line run by a shell in the checkout, as a user types it (no FLUXCAST_* of ours leaks in). */
function shell(line: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLUXCAST_')));
  return new Promise((resolve) => {
    exec(line, { cwd: ROOT, env, shell: '/bin/sh', timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('npm start (examples/bootstrap)', () => {
  it.each(['SIGINT', 'SIGTERM', 'SIGKILL'] as const)('runs the demo planet, serves /live.wav, and leaves no process behind on %s', async (signal) => {
    const child = spawn(process.execPath, [path.resolve(__dirname, '../../dist/examples/bootstrap.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      await waitFor(() => out.includes('Ctrl-C stops everything'), 15000, 'bootstrap banner');
      // The URL is printed once the streamer is happy, not before.
      await waitFor(() => out.includes('/default/streamer: listen at http://127.0.0.1:8800/live.wav'), 15000, 'the stream URL');
      expect(out).toContain('admin:  http://127.0.0.1:7531/admin/ (log in with the admin secret: fluxcast-demo-admin)');
      // Asked with the demo planet's admin secret, as `fluxcast status` would.
      let happy = false;
      await waitFor(() => happy, 20000, 'demo all happy', async () => {
        const r = await adminRequest('ws://127.0.0.1:7531', 'fluxcast-demo-admin', (requestId) => ({ type: 'status-request', requestId }), 2000).catch(() => null);
        happy = r?.type === 'status' && allHappy(r.status as Parameters<typeof allHappy>[0]);
      });
      const r = await rawRequest(8800, get('/live.wav'));
      await waitFor(() => r.body().length > 100, 10000, 'audio');
      expect(r.body().subarray(0, 4).toString()).toBe('RIFF');
      r.socket.destroy();
      const pids = [...out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
      expect(pids.length).toBeGreaterThanOrEqual(2);
      child.kill(signal);
      expect(await exited).toBe(signal === 'SIGKILL' ? null : 0);
      // SIGKILL leaves no time to stop anyone: the children notice their parent is gone.
      await waitFor(() => pids.every((pid) => !alive(pid)), 5000, 'no process left');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
  it("answers the README Quick start's fluxcast commands, run as written", async () => {
    const commands = quickStartCommands();
    expect(commands.some((c) => / npx fluxcast status$/.test(c))).toBe(true);
    expect(commands.some((c) => / npx fluxcast component restart \/default\/muxer$/.test(c))).toBe(true);
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/examples/bootstrap.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      await waitFor(() => out.includes('/default/streamer: listen at http://127.0.0.1:8800/live.wav'), 30000, 'the demo up');
      for (const line of commands) {
        const r = await shell(line);
        expect({ line, status: r.status, stderr: r.stderr }).toEqual({ line, status: 0, stderr: '' });
        if (/ status$/.test(line)) {
          for (const id of ['/default/source', '/default/encoder', '/default/muxer', '/default/streamer']) expect(r.stdout).toContain(id);
          expect(r.stdout).toMatch(/happy/);
        } else {
          expect(r.stdout.trim().length).toBeGreaterThan(0);
        }
      }
      // The restarted muxer comes back, and the stream with it.
      let happy = false;
      await waitFor(() => happy, 20000, 'demo all happy after the restart', async () => {
        const r = await adminRequest('ws://127.0.0.1:7531', 'fluxcast-demo-admin', (requestId) => ({ type: 'status-request', requestId }), 2000).catch(() => null);
        happy = r?.type === 'status' && allHappy(r.status as Parameters<typeof allHappy>[0]);
      });
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
