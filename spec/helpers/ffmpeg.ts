// Runs real ffmpeg clients in tests (a DJ's encoder, OBS). In CI (CI=true) a missing ffmpeg
// fails the suite; on a developer machine without it, the tests are skipped with a notice.

import { ChildProcess, spawn, spawnSync } from 'child_process';

let available: boolean | undefined;

export function ffmpegAvailable(): boolean {
  if (available === undefined) available = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
  return available;
}

export function describeFfmpeg(name: string, fn: () => void): void {
  if (ffmpegAvailable() || process.env.CI) {
    describe(name, () => {
      beforeAll(() => {
        if (!ffmpegAvailable()) throw new Error('ffmpeg is required in CI (apt-get install ffmpeg)');
      });
      fn();
    });
  } else {
    console.warn(`NOTICE: ffmpeg not installed; skipping "${name}" (run .ci/run or apt-get install ffmpeg)`);
    describe.skip(name, fn);
  }
}

export interface FfmpegRun {
  child: ChildProcess;
  /** What it printed so far. */
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts ffmpeg with `args` (after -hide_banner -nostdin); stop() ends it (SIGINT, then SIGKILL). */
export function runFfmpeg(args: string[]): FfmpegRun {
  const child = spawn('ffmpeg', ['-hide_banner', '-nostdin', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    output: () => out,
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A test tone pushed live (-re) for `seconds` in the given output format to `url`. */
export function pushTone(url: string, format: 'ogg' | 'mp3' | 'adts' | 'webm', seconds = 60, extra: string[] = []): FfmpegRun {
  const codec: Record<string, string[]> = {
    ogg: ['-c:a', 'libvorbis', '-b:a', '96k'],
    mp3: ['-c:a', 'libmp3lame', '-b:a', '128k'],
    adts: ['-c:a', 'aac', '-b:a', '96k'],
    webm: ['-c:a', 'libopus', '-b:a', '64k'],
  };
  return runFfmpeg(['-loglevel', 'warning', '-re', '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${seconds}`, ...codec[format], ...extra, '-f', format, url]);
}
