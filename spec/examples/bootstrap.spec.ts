// `npm start` as a user runs it: the demo planet comes up, the stream plays, Ctrl-C ends it all.
import { spawn } from 'child_process';
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

describe('npm start (examples/bootstrap)', () => {
  it('runs the demo planet, serves /live.wav, and stops everything on Ctrl-C', async () => {
    const child = spawn(process.execPath, [path.resolve(__dirname, '../../dist/examples/bootstrap.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      await waitFor(() => out.includes('Ctrl-C stops everything'), 15000, 'bootstrap banner');
      expect(out).toContain('http://127.0.0.1:8800/live.wav');
      // Asked with the demo planet's own secret, as `fluxcast status` would.
      let happy = false;
      await waitFor(() => happy, 20000, 'demo all happy', async () => {
        const r = await adminRequest('ws://127.0.0.1:7531', 'fluxcast-demo-secret', (requestId) => ({ type: 'status-request', requestId }), 2000).catch(() => null);
        happy = r?.type === 'status' && allHappy(r.status as Parameters<typeof allHappy>[0]);
      });
      const r = await rawRequest(8800, get('/live.wav'));
      await waitFor(() => r.body().length > 100, 10000, 'audio');
      expect(r.body().subarray(0, 4).toString()).toBe('RIFF');
      r.socket.destroy();
      const pids = [...out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      await new Promise((res) => setTimeout(res, 200));
      for (const pid of pids) expect(alive(pid)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
