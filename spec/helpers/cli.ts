// Runs the built `fluxcast` command (npm test builds it first) as a real child process.
import { spawnSync } from 'child_process';
import * as path from 'path';

export const CLI = path.resolve(__dirname, '../../dist/cli/main.js');

export function runCli(args: string[], input?: Buffer): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', timeout: 30000, maxBuffer: 64 * 1024 * 1024 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}
