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
});
