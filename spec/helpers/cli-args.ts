// Checks a `fluxcast ...` argv written in a deployment file (a unit's ExecStart, a Dockerfile's
// CMD, a compose command) against the real command line: the commander program of the built CLI.
// Returns the problems found (empty when every subcommand, option and argument exists).

import * as path from 'path';
import type { Command, Option } from 'commander';

const DIST_MAIN = path.resolve(__dirname, '../../dist/cli/main.js');

export function fluxcastProgram(): Command {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(DIST_MAIN) as { buildProgram(): Command }).buildProgram();
}

export interface CheckedArgs {
  problems: string[];
  /** The subcommand path, e.g. ['component', 'restart']. */
  command: string[];
  /** Option (long name, without --) → its value ('' for a flag). */
  options: Map<string, string>;
  positional: string[];
}

/** `args` are the words after `fluxcast`. */
export function checkFluxcastArgs(args: readonly string[]): CheckedArgs {
  let cmd = fluxcastProgram();
  const command: string[] = [];
  const problems: string[] = [];
  let i = 0;
  while (i < args.length && cmd.commands.length > 0) {
    const sub = cmd.commands.find((c) => c.name() === args[i]);
    if (!sub) {
      problems.push(`no subcommand '${args[i]}' of 'fluxcast${command.map((c) => ` ${c}`).join('')}'`);
      return { problems, command, options: new Map(), positional: [] };
    }
    cmd = sub;
    command.push(args[i++]);
  }
  if (cmd.commands.length > 0) problems.push(`'fluxcast ${command.join(' ')}' needs a subcommand`);
  const options = new Map<string, string>();
  const positional: string[] = [];
  const global = ['--help', '-h', '--version', '-V'];
  for (; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('-') && !global.includes(a)) {
      const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
      const opt = cmd.options.find((o: Option) => o.long === flag || o.short === flag);
      if (!opt) {
        problems.push(`'fluxcast ${command.join(' ')}' has no option ${flag}`);
        continue;
      }
      let value = '';
      if (opt.required || opt.optional) {
        value = inline ?? args[++i];
        if (value === undefined) problems.push(`${flag} needs a value`);
      }
      options.set(opt.long?.replace(/^--/, '') ?? flag, value ?? '');
    } else if (!global.includes(a)) {
      positional.push(a);
    }
  }
  const declared = cmd.registeredArguments;
  const variadic = declared.some((d) => d.variadic);
  if (!variadic && positional.length > declared.length) problems.push(`'fluxcast ${command.join(' ')}' takes ${declared.length} argument(s), given ${positional.join(' ')}`);
  declared.forEach((d, n) => {
    if (d.required && positional[n] === undefined) problems.push(`'fluxcast ${command.join(' ')}' needs <${d.name()}>`);
  });
  for (const o of cmd.options) if (o.mandatory && !options.has(o.long?.replace(/^--/, '') ?? '')) problems.push(`'fluxcast ${command.join(' ')}' needs ${o.long}`);
  return { problems, command, options, positional };
}
