// For bench:planet: many workers in one process (w0..wN-1), each with its own feed server and
// manager link, so the manager can be measured with 50 workers on a 2-core machine.
import { Worker } from '../actors/worker/worker';

const arg = (k: string, d: string) => (process.argv.includes(`--${k}`) ? process.argv[process.argv.indexOf(`--${k}`) + 1] : d);
const count = Number(arg('workers', '50'));
const manager = arg('manager', 'ws://127.0.0.1:7531');
const secret = process.env.FLUXCAST_SECRET ?? '';

async function main(): Promise<void> {
  for (let i = 0; i < count; i++) {
    const w = new Worker({ name: `w${i}`, managerUrl: manager, secret, feedHost: '127.0.0.1', feedPort: 0, checkIntervalMs: 1500, log: () => undefined });
    await w.start();
  }
}

main().catch((e) => {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exit(1);
});
