// How fluxcast's processes log: one function that takes a line, its level and what it concerns
// (the worker, the component); the command line turns it into structured logs (cli/logging.ts),
// tests collect the lines. A component's messages (what `status` shows) reach it from the one
// call that makes them (Component.addMessage), so the two never disagree.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogContext {
  manager?: string;
  worker?: string;
  component?: string;
}

export type LogFn = (line: string, level?: LogLevel, context?: LogContext) => void;

/** A component message's level as a log level. */
export function messageLevel(level: 'error' | 'warning' | 'info'): LogLevel {
  return level === 'warning' ? 'warn' : level;
}
