// Runs the built `fluxcast` command (npm test builds it first) as a real child process.
import { execFile, spawnSync } from 'child_process';
import * as path from 'path';

export const CLI = path.resolve(__dirname, '../../dist/cli/main.js');

export function runCli(args: string[], input?: Buffer): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', timeout: 30000, maxBuffer: 64 * 1024 * 1024 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** The same, without blocking this process (for tests whose manager or worker runs in-process). */
export function runCliAsync(args: string[]): Promise<{ stdout: string; stderr: string; status: number | null }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, status: err ? ((err as { code?: number }).code ?? 1) : 0 });
    });
  });
}
