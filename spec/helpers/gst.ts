// Runs real GStreamer tools in tests. In CI (CI=true) a missing GStreamer fails the suite;
// on a developer machine without it, GStreamer tests are skipped with a visible notice.

import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import { GdpDecoder, GdpFrame } from '../../protocol/gdp';

let available: boolean | undefined;

export function gstAvailable(): boolean {
  if (available === undefined) {
    try {
      execFileSync('gst-launch-1.0', ['--version'], { stdio: 'ignore' });
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

/** `describe` when GStreamer can run (or in CI, where it must), `describe.skip` with a notice otherwise. */
export function describeGst(name: string, fn: () => void): void {
  if (gstAvailable() || process.env.CI) {
    describe(name, () => {
      beforeAll(() => {
        if (!gstAvailable()) throw new Error('gst-launch-1.0 is required in CI (install gstreamer1.0-tools)');
      });
      fn();
    });
  } else {
    console.warn(`NOTICE: GStreamer not installed; skipping "${name}" (run .ci/run or apt-get install gstreamer1.0-tools)`);
    describe.skip(name, fn);
  }
}

/** Runs gst-launch-1.0 with a time limit and returns stdout+stderr. */
export function gstLaunch(args: string[], timeoutMs = 30000): { out: string; status: number | null } {
  const r = spawnSync('gst-launch-1.0', args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { out: (r.stdout ?? '') + (r.stderr ?? ''), status: r.status };
}

/** A gst-launch-1.0 pipeline ending in `gdppay ! fdsink fd=1`, decoded as it runs. */
export function spawnGdpProducer(pipeline: string, onFrame: (f: GdpFrame) => void): ChildProcess {
  const child = spawn('gst-launch-1.0', ['-q', ...pipeline.split(/\s+/), '!', 'gdppay', '!', 'fdsink', 'fd=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const decoder = new GdpDecoder({ onFrame });
  child.stdout?.on('data', (chunk: Buffer) => {
    const err = decoder.push(chunk);
    if (err) throw err;
  });
  child.stderr?.on('data', () => undefined);
  return child;
}

/** Runs a gst-launch-1.0 client for `ms` milliseconds (then SIGINT) and returns its -v output. */
export function runGstClient(args: string[], ms: number): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('gst-launch-1.0', ['-v', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => child.kill('SIGINT'), ms);
    const hard = setTimeout(() => child.kill('SIGKILL'), ms + 5000);
    child.on('exit', () => {
      clearTimeout(t);
      clearTimeout(hard);
      resolve(out);
    });
  });
}

/** Seconds of media between the first and last `chain` line of a fakesink silent=false -v run. */
export function decodedSeconds(out: string): number {
  const pts = [...out.matchAll(/last-message = chain .*? pts: (\d+):(\d\d):(\d\d)\.(\d{9})/g)].map(
    (m) => Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1e9,
  );
  return pts.length < 2 ? 0 : Math.max(...pts) - Math.min(...pts);
}
