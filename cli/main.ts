#!/usr/bin/env node
// The `fluxcast` command: one entry point, one sub-command per job. Parses arguments with
// commander and reports every failure as `error CODE: message` with a non-zero exit status.

import { Command, InvalidArgumentError } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { inspect, roundtrip } from './gdp';
import { check, componentCommand, reload, runManager, runWorker, status } from './planet';
import { up } from './up';
import { startLaunch } from './launch';
import { CA_DAYS, CertsInitOptions, DEFAULT_DAYS, certsInit } from './certs';
import { kickCommand, listenersCommand } from './listeners';
import { reportError } from './errors';
import { guardProcess } from './process-guard';
import { LogOptions, logFormat, logLevel, makeLog } from './logging';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return n;
}

function wsUrl(value: string): string {
  if (!/^wss?:\/\/[^/\s]+(:\d+)?\/?$/.test(value)) throw new InvalidArgumentError('expected ws://HOST:PORT');
  return value;
}

/** A repeatable option's values, in order (checked by the command, with coded errors). */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
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
  program
    .command('check')
    .description('validate a planet file and print every problem with its path')
    .argument('<planet>', 'planet YAML file')
    .option('--one-host', 'every worker runs on this machine, as `fluxcast up` runs them: ports clash across workers too')
    .action((file: string, opts: { oneHost?: boolean }) => {
      process.exitCode = check(file, { oneMachine: !!opts.oneHost });
    });
  program
    .command('manager')
    .description('run the manager of a planet')
    .requiredOption('--planet <file>', 'planet YAML file')
    .option('--host <host>', 'address to listen on (default: the planet\'s, 127.0.0.1)')
    .option('--port <port>', 'port to listen on (default: the planet\'s, 7531)', port)
    .option('--secret <secret>', 'the workers\' secret (default: --secret-file, $FLUXCAST_SECRET, the planet\'s)')
    .option('--secret-file <file>', 'file holding the workers\' secret')
    .option('--admin-secret <secret>', 'the admins\' secret (default: --admin-secret-file, $FLUXCAST_ADMIN_SECRET, the planet\'s)')
    .option('--admin-secret-file <file>', 'file holding the admins\' secret')
    .option('--log-level <level>', 'debug, info, warn or error', logLevel, 'info')
    .option('--log-format <format>', 'json or pretty (default: pretty on a terminal, json otherwise)', logFormat)
    .action(async (opts) => runManager(opts));
  program
    .command('worker')
    .description('run a worker: log in to the manager, run a feed server and the components placed here')
    .requiredOption('--name <name>', 'worker name, as in the planet')
    .option('--manager <url>', 'manager address (wss:// for TLS)', wsUrl, 'ws://127.0.0.1:7531')
    .option('--ca-file <file>', 'a private CA the manager\'s certificate is signed by (default: $FLUXCAST_CA_FILE, else the system\'s CAs)')
    .option('--feed-port <port>', 'pin the feed server to this port (0 = any free port; default: the first free one of 8600-8639)', port)
    .option('--feed-host <host>', 'feed server address', '127.0.0.1')
    .option('--advertise <host>', 'address other workers use to reach this feed server (default: --feed-host; for 0.0.0.0, this host\'s first non-loopback address)')
    .option('--check-interval <ms>', 'an eater with no data for this long is disconnected', positiveInt, 1500)
    .option('--feed-cert <file>', 'feeds over TLS: this worker\'s certificate (signed by the planet\'s feed CA)')
    .option('--feed-key <file>', 'feeds over TLS: its private key')
    .option('--feed-ca <file>', 'feeds over TLS: the CA every worker\'s certificate is signed by')
    .option('--secret <secret>', 'the workers\' secret (default: --secret-file, $FLUXCAST_SECRET)')
    .option('--secret-file <file>', 'file holding the workers\' secret')
    .option('--log-level <level>', 'debug, info, warn or error', logLevel, 'info')
    .option('--log-format <format>', 'json or pretty (default: pretty on a terminal, json otherwise)', logFormat)
    .action(async (opts) => runWorker(opts));
  program
    .command('status')
    .description('show workers and components with their moods')
    .option('--manager <url>', 'manager address (wss:// for TLS)', wsUrl, 'ws://127.0.0.1:7531')
    .option('--ca-file <file>', 'a private CA the manager\'s certificate is signed by (default: $FLUXCAST_CA_FILE, else the system\'s CAs)')
    .option('--json', 'print the status as one JSON object')
    .option('--tree', 'draw the live supervision trees of the manager and every connected worker')
    .option('--secret <secret>', 'the admin secret (default: --secret-file, $FLUXCAST_ADMIN_SECRET, $FLUXCAST_SECRET)')
    .option('--secret-file <file>', 'file holding the admin secret')
    .action(async (opts) => {
      process.exitCode = await status(opts);
    });
  const component = program.command('component').description('start, stop or restart a component (/flow/name); list or kick its listeners');
  for (const action of ['start', 'stop', 'restart'] as const) {
    component
      .command(action)
      .argument('<id>', 'component id, /flow/name')
      .option('--manager <url>', 'manager address (wss:// for TLS)', wsUrl, 'ws://127.0.0.1:7531')
      .option('--ca-file <file>', 'a private CA the manager\'s certificate is signed by (default: $FLUXCAST_CA_FILE, else the system\'s CAs)')
      .option('--secret <secret>', 'the admin secret (default: --secret-file, $FLUXCAST_ADMIN_SECRET, $FLUXCAST_SECRET)')
      .option('--secret-file <file>', 'file holding the admin secret')
      .action(async (id: string, opts) => {
        process.exitCode = await componentCommand(action, id, opts);
      });
  }
  component
    .command('listeners')
    .description("list an http-streamer's listeners: id, address, time connected, bytes sent, user agent (oldest first)")
    .argument('<id>', 'component id, /flow/name')
    .option('--json', 'print {"listeners": [...], "total": N} as the API gives it')
    .option('--manager <url>', 'manager address (wss:// for TLS)', wsUrl, 'ws://127.0.0.1:7531')
    .option('--ca-file <file>', 'a private CA the manager\'s certificate is signed by (default: $FLUXCAST_CA_FILE, else the system\'s CAs)')
    .option('--secret <secret>', 'the admin secret (default: --secret-file, $FLUXCAST_ADMIN_SECRET, $FLUXCAST_SECRET)')
    .option('--secret-file <file>', 'file holding the admin secret')
    .action(async (id: string, opts) => {
      process.exitCode = await listenersCommand(id, opts);
    });
  component
    .command('kick')
    .description("disconnect one of an http-streamer's listeners (its id as `component listeners` shows it)")
    .argument('<id>', 'component id, /flow/name')
    .argument('<listener>', 'listener id')
    .option('--manager <url>', 'manager address (wss:// for TLS)', wsUrl, 'ws://127.0.0.1:7531')
    .option('--ca-file <file>', 'a private CA the manager\'s certificate is signed by (default: $FLUXCAST_CA_FILE, else the system\'s CAs)')
    .option('--secret <secret>', 'the admin secret (default: --secret-file, $FLUXCAST_ADMIN_SECRET, $FLUXCAST_SECRET)')
    .option('--secret-file <file>', 'file holding the admin secret')
    .action(async (id: string, listener: string, opts) => {
      process.exitCode = await kickCommand(id, listener, opts);
    });
  program
    .command('reload')
    .description('make the manager re-read its planet file (or PLANET) and apply the difference')
    .argument('[planet]', 'a planet file whose text the manager takes instead of re-reading its own')
    .option('--manager <url>', 'manager address (wss:// for TLS)', wsUrl, 'ws://127.0.0.1:7531')
    .option('--ca-file <file>', 'a private CA the manager\'s certificate is signed by (default: $FLUXCAST_CA_FILE, else the system\'s CAs)')
    .option('--secret <secret>', 'the admin secret (default: --secret-file, $FLUXCAST_ADMIN_SECRET, $FLUXCAST_SECRET)')
    .option('--secret-file <file>', 'file holding the admin secret')
    .action(async (file: string | undefined, opts) => {
      process.exitCode = await reload(file, opts);
    });
  program
    .command('launch')
    .description('run components wired directly in this process, e.g. "audiotest-producer ! vorbis-encoder ! ogg-muxer ! http-streamer"')
    .argument('<description...>', 'components with properties (key=value), linked with !')
    .option('--log-level <level>', 'debug, info, warn or error', logLevel, 'info')
    .option('--log-format <format>', 'json or pretty (default: pretty on a terminal, json otherwise)', logFormat)
    .action(async (words: string[], opts: LogOptions) => {
      guardProcess('launch');
      const launched = await startLaunch(words.join(' '), (l) => process.stdout.write(l + '\n'), makeLog(opts, { worker: 'launch' }));
      process.stdout.write('Ctrl-C stops everything.\n');
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        void launched.stop().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  const certs = program.command('certs').description('certificates for TLS on every hop of a planet');
  certs
    .command('init')
    .description('make a private CA and the certificates of a planet\'s manager, workers (feeds) and HTTPS streamers and porters in DIR, and print the planet lines that use them')
    .argument('<dir>', 'directory for the CA and the certificates (created if missing)')
    .option('--planet <file>', 'planet YAML file (required): its manager, workers and HTTPS components get certificates')
    .option('--host <name>', 'a DNS name clients use to reach the hosts, in every certificate (repeatable)', collect, [])
    .option('--ip <address>', 'an IP address clients use to reach the hosts, in every certificate (repeatable)', collect, [])
    .option('--days <days>', `validity of the certificates in days (default: ${DEFAULT_DAYS}; the CA: ${CA_DAYS})`)
    .option('--force', 'replace certificates that are in the way (other names, another CA, expired); a usable CA is kept')
    .action((dir: string, opts: CertsInitOptions) => {
      certsInit(dir, opts, (l) => process.stdout.write(l + '\n'), (l) => process.stderr.write(l + '\n'));
    });
  program
    .command('up')
    .description('run a planet on this host: its manager and all its workers, until Ctrl-C')
    .argument('<planet>', 'planet YAML file')
    .option('--secret <secret>', 'the workers\' secret (default: --secret-file, $FLUXCAST_SECRET, the planet\'s)')
    .option('--secret-file <file>', 'file holding the workers\' secret')
    .option('--admin-secret <secret>', 'the admins\' secret (default: --admin-secret-file, $FLUXCAST_ADMIN_SECRET, the planet\'s)')
    .option('--admin-secret-file <file>', 'file holding the admins\' secret')
    .option('--log-level <level>', 'debug, info, warn or error (for the manager and workers)', logLevel)
    .option('--log-format <format>', 'json or pretty (default: pretty on a terminal, json otherwise)', logFormat)
    .action(async (file: string, opts) => up(file, opts));
  return program;
}

if (require.main === module) {
  // A reader that went away (`fluxcast status | head -1`) ends the output quietly.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  buildProgram()
    .parseAsync(process.argv)
    .catch((err) => {
      reportError(err);
      process.exit(1);
    });
}
