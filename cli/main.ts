#!/usr/bin/env node
// The `fluxcast` command: one entry point, one sub-command per job. Parses arguments with
// commander and reports every failure as `error CODE: message` with a non-zero exit status.

import { Command, InvalidArgumentError } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { inspect, roundtrip } from './gdp';
import { reportError } from './errors';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('fluxcast')
    .description('Distributed live-streaming server: components on workers, wired by GDP feeds.')
    .version(packageVersion())
    .showHelpAfterError();

  const gdp = program.command('gdp').description('look into and re-encode GStreamer Data Protocol (GDP 1.0) streams');
  gdp
    .command('inspect')
    .description('print one JSON object per packet of a GDP stream (FILE, or - for stdin)')
    .argument('<file>', 'GDP file, or - for standard input')
    .option('--max-payload <bytes>', 'largest payload accepted', positiveInt)
    .action(async (file: string, opts: { maxPayload?: number }) => {
      process.exitCode = await inspect(file, opts);
    });
  gdp
    .command('roundtrip')
    .description('decode IN and encode it again to OUT, keeping every packet\'s CRC flags')
    .argument('<in>', 'GDP file, or - for standard input')
    .argument('<out>', 'file to write')
    .action(async (inFile: string, outFile: string) => {
      process.exitCode = await roundtrip(inFile, outFile);
    });
  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err) => {
      reportError(err);
      process.exitCode = 1;
    });
}
