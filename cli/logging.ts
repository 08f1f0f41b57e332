// The command line's logger: pino, with `--log-level` (debug, info, warn, error) and
// `--log-format json|pretty` (pretty by default on a terminal, JSON lines otherwise), on
// stderr. Every line carries what it concerns: the manager's planet, the worker, the component.

import pino from 'pino';
import pinoPretty from 'pino-pretty';
import { InvalidArgumentError } from 'commander';
import { LogContext, LogFn, LogLevel } from '../actors/log';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export const LOG_FORMATS = ['json', 'pretty'] as const;

export function logLevel(v: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${LOG_LEVELS.join(', ')}`);
  return v as LogLevel;
}

export function logFormat(v: string): 'json' | 'pretty' {
  if (!(LOG_FORMATS as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${LOG_FORMATS.join(', ')}`);
  return v as 'json' | 'pretty';
}

export interface LogOptions {
  logLevel?: LogLevel;
  logFormat?: 'json' | 'pretty';
}

/** A log function writing to stderr, with the base context (e.g. `{ worker: 'worker1' }`) on every line. */
export function makeLog(opts: LogOptions, base: LogContext = {}): LogFn {
  const format = opts.logFormat ?? (process.stderr.isTTY ? 'pretty' : 'json');
  const stream =
    format === 'pretty'
      ? pinoPretty({ destination: 2, sync: true, singleLine: true, colorize: !!process.stderr.isTTY, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname' })
      : pino.destination({ dest: 2, sync: true });
  const logger = pino({ level: opts.logLevel ?? 'info', base: { pid: process.pid, ...base } }, stream);
  return (line, level = 'info', context) => (context ? logger.child(context) : logger)[level](line);
}
