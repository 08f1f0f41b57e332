// The last line of supervision in a long-running fluxcast process (manager, worker, up, launch):
// a throw or a rejected promise that no actor caught ends the process with one clear line and
// exit code 70 (EX_SOFTWARE), which `up` and systemd restart. Never a process that goes on in
// an unknown state, and never a stack trace as its only word.

import { FluxError } from '../protocol/errors';
import { EXIT_SOFTWARE } from '../actors/worker/manager-link';
import { CLI_ERROR_CODES, reportError } from './errors';

let installed = false;

export function guardProcess(what: string): void {
  if (installed) return;
  installed = true;
  const die = (kind: string) => (e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    reportError(new FluxError(CLI_ERROR_CODES.UNCAUGHT, `${what}: ${kind} outside any actor: ${err.message}`));
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(EXIT_SOFTWARE);
  };
  process.on('uncaughtException', die('an uncaught exception'));
  process.on('unhandledRejection', die('an unhandled rejection'));
}
