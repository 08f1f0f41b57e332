// `fluxcast certs init DIR --planet PLANET`: a private CA and every certificate a planet needs for
// TLS on every hop (the manager, feeds between workers, HTTPS streamers and porters), then the
// planet lines and worker flags that use them. It never overwrites a file without --force.

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { FluxError } from '../protocol/errors';
import { PlanetConfig } from '../protocol/planet';
import { CLI_ERROR_CODES } from './errors';
import { Names, Pair, caProblem, issueCert, makeCaCert, pairProblem, writeKey } from './pki';
import { loadPlanet } from './planet';

export const CA_DAYS = 3650;
export const DEFAULT_DAYS = 825;

export interface CertsInitOptions {
  planet?: string;
  host?: string[];
  ip?: string[];
  /** As typed on the command line, or a number. */
  days?: string | number;
  force?: boolean;
}

/** One certificate to have in DIR: the files' stem, what it is for, its names. */
interface Wanted {
  stem: string;
  what: string;
  commonName: string;
  names: Names;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '']);
const DNS_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function bad(message: string): FluxError {
  return new FluxError(CLI_ERROR_CODES.BAD_ARGUMENT, message);
}

/** --host and --ip, checked: DNS names (lower-cased) and addresses a client can reach. */
export function parseNames(hosts: string[], ips: string[]): Names {
  const names: Names = { dns: [], ips: [] };
  for (const h of hosts) {
    if (net.isIP(h.replace(/^\[|\]$/g, ''))) throw bad(`--host ${h} is an IP address: give it with --ip ${h.replace(/^\[|\]$/g, '')}`);
    const n = h.toLowerCase();
    if (n.length > 253 || !DNS_NAME.test(n)) throw bad(`--host '${h}' is not a DNS name (letters, digits and '-', labels joined by '.')`);
    names.dns.push(n);
  }
  for (const a of ips) {
    const ip = a.replace(/^\[|\]$/g, '');
    if (!net.isIP(ip)) throw bad(`--ip '${a}' is not an IPv4 or IPv6 address`);
    if (WILDCARD_HOSTS.has(ip) || /^0+(\.0+){3}$/.test(ip)) throw bad(`--ip ${a} is "every address" to listen on, not one a client can reach: give the host's own address`);
    names.ips.push(ip);
  }
  return names;
}

/** Adds a `host` (a name or an address) to a set of names, unless it is a wildcard. */
function withHost(names: Names, host: string | undefined): Names {
  const h = (host ?? '127.0.0.1').replace(/^\[|\]$/g, '');
  if (WILDCARD_HOSTS.has(h)) return names;
  if (net.isIP(h)) return { dns: names.dns, ips: [...names.ips, h] };
  return { dns: [...names.dns, h.toLowerCase()], ips: names.ips };
}

function unique(n: Names): Names {
  return { dns: [...new Set(n.dns)], ips: [...new Set(n.ips)] };
}

/** The components that can serve HTTPS themselves: porters, and http-streamers with a port of their own. */
function httpsServers(planet: PlanetConfig): Array<{ id: string; flow: string; name: string; type: string; host?: string }> {
  const all = [
    ...planet.atmosphere.components.map((c) => ({ flow: 'atmosphere', c })),
    ...planet.flows.flatMap((f) => f.components.map((c) => ({ flow: f.name, c }))),
  ];
  return all
    .filter(({ c }) => c.type === 'porter' || (c.type === 'http-streamer' && !(c.properties as Record<string, unknown>).porter))
    .map(({ flow, c }) => ({ id: `/${flow}/${c.name}`, flow, name: c.name, type: c.type, host: (c.properties as Record<string, unknown>).host as string | undefined }));
}

/** Components that serve HTTP but cannot do TLS on their own port (an hls-streamer without a porter). */
function plainOnly(planet: PlanetConfig): string[] {
  return planet.flows.flatMap((f) =>
    f.components.filter((c) => c.type === 'hls-streamer' && !(c.properties as Record<string, unknown>).porter).map((c) => `/${f.name}/${c.name}`),
  );
}

/** `https-NAME@FLOW`: '@' is in no name, so no two components share files. */
function httpsStem(s: { flow: string; name: string }): string {
  return `https-${s.name}@${s.flow}`;
}

function wantedCerts(planet: PlanetConfig, extra: Names): Wanted[] {
  const base = unique({ dns: ['localhost', ...extra.dns], ips: ['127.0.0.1', ...extra.ips] });
  const tag = `(planet ${planet.name})`;
  const list: Wanted[] = [
    { stem: 'manager', what: 'the manager', commonName: `fluxcast manager ${tag}`, names: unique(withHost(base, planet.manager.host)) },
    { stem: 'feeds', what: 'feeds of the workers `fluxcast up` starts', commonName: `fluxcast feeds ${tag}`, names: base },
    ...planet.workers.map((w) => ({ stem: `worker-${w.name}`, what: `feeds of worker ${w.name}`, commonName: `fluxcast worker ${w.name} ${tag}`, names: base })),
    ...httpsServers(planet).map((s) => ({ stem: httpsStem(s), what: `HTTPS of ${s.id} (${s.type})`, commonName: `fluxcast ${s.type} ${s.flow}.${s.name} ${tag}`, names: unique(withHost(base, s.host)) })),
  ];
  return list;
}

/** A YAML scalar for a path: plain when it is safe, quoted otherwise. */
function yamlPath(p: string): string {
  return /^[A-Za-z0-9/._@-]+$/.test(p) ? p : JSON.stringify(p);
}

function shellWord(p: string): string {
  return /^[A-Za-z0-9/._:=@+-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

function nameText(n: Names): string {
  return [...n.dns, ...n.ips].join(', ');
}

/**
 * Makes what is missing, keeps what is already right, and refuses (unless `force`) to replace
 * anything else: everything is checked before the first file is written.
 */
export function certsInit(dirArg: string, opts: CertsInitOptions, print: (line: string) => void, warn: (line: string) => void): void {
  if (!opts.planet) throw bad('--planet PLANET is required: the planet whose manager, workers and HTTPS components get certificates');
  const days = opts.days === undefined ? DEFAULT_DAYS : Number(opts.days);
  if (!/^\d+$/.test(String(opts.days ?? DEFAULT_DAYS)) || days < 1 || days > CA_DAYS) throw bad(`--days must be a whole number of days from 1 to ${CA_DAYS}, not '${opts.days}'`);
  const extra = parseNames(opts.host ?? [], opts.ip ?? []);
  const planet = loadPlanet(opts.planet);
  const dir = path.resolve(dirArg);
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw bad(`${dir} exists and is not a directory`);

  const pair = (stem: string): Pair => ({ cert: path.join(dir, `${stem}.pem`), key: path.join(dir, `${stem}.key`) });
  const exists = (p: Pair) => fs.existsSync(p.cert) || fs.existsSync(p.key);
  const ca = pair('ca');
  const wanted = wantedCerts(planet, extra);
  const conflicts: string[] = [];

  // The CA: kept when it is a usable pair; anything else in its place is a conflict.
  let newCa = !exists(ca);
  if (!newCa) {
    const why = caProblem(ca);
    if (why) {
      conflicts.push(`ca.pem/ca.key: ${why}`);
      newCa = true;
    }
  }
  const caCert = newCa ? null : new crypto.X509Certificate(fs.readFileSync(ca.cert));
  const plan = wanted.map((w) => {
    const p = pair(w.stem);
    if (!exists(p)) return { w, p, make: true };
    const why = caCert ? pairProblem(caCert, p, w.names) : 'signed by the CA that is being replaced';
    if (why) conflicts.push(`${w.stem}.pem/${w.stem}.key: ${why}`);
    return { w, p, make: !!why };
  });
  if (conflicts.length && !opts.force) {
    throw new FluxError(
      CLI_ERROR_CODES.CERTS_EXIST,
      `${dir} already holds files that would be replaced:\n${conflicts.map((c) => `  ${c}`).join('\n')}\n` +
        'nothing was written; --force replaces them (a usable CA is kept: remove ca.pem and ca.key for a new one)',
    );
  }

  // Everything is made in a staging folder inside DIR, then moved into place: a failure leaves DIR as it was.
  fs.mkdirSync(dir, { recursive: true });
  const stage = fs.mkdtempSync(path.join(dir, '.staging-'));
  const made: string[] = [];
  const kept: string[] = [];
  try {
    const staged = (p: Pair): Pair => ({ cert: path.join(stage, path.basename(p.cert)), key: path.join(stage, path.basename(p.key)) });
    const signer = newCa ? staged(ca) : ca;
    const moves: Pair[] = [];
    if (newCa) {
      writeKey(signer.key);
      makeCaCert(signer, `fluxcast CA (planet ${planet.name})`, CA_DAYS);
      moves.push(ca);
      made.push(`  made  ca.pem, ca.key: the private CA (${CA_DAYS} days)`);
    } else kept.push('  kept  ca.pem, ca.key: the private CA');
    for (const { w, p, make } of plan) {
      const line = `${w.stem}.pem, ${w.stem}.key: ${w.what}; ${nameText(w.names)}`;
      if (!make) {
        kept.push(`  kept  ${line}`);
        continue;
      }
      const s = staged(p);
      writeKey(s.key);
      issueCert(signer, s, w.commonName, w.names, { days });
      moves.push(p);
      made.push(`  made  ${line} (${days} days)`);
    }
    for (const p of moves) {
      const s = staged(p);
      fs.renameSync(s.key, p.key);
      fs.renameSync(s.cert, p.cert);
    }
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
  print(`certificates for planet '${planet.name}' in ${dir}:`);
  for (const l of [...made, ...kept]) print(l);
  warn(`warning: ${ca.key} signs certificates that every process of this planet trusts: keep it private (it is 0600) and off the other hosts; it is needed only to make more certificates`);
  printUse(planet, dir, extra, print);
}

/** The planet lines and command flags that use the certificates, with absolute paths. */
function printUse(planet: PlanetConfig, dir: string, extra: Names, print: (line: string) => void): void {
  const f = (name: string) => yamlPath(path.join(dir, name));
  const sh = (name: string) => shellWord(path.join(dir, name));
  const host = WILDCARD_HOSTS.has(planet.manager.host) ? (extra.ips[0] ?? extra.dns[0] ?? '127.0.0.1') : planet.manager.host;
  const url = `wss://${net.isIPv6(host) ? `[${host}]` : host}:${planet.manager.port}`;
  print('');
  print('# In the planet, under manager: (the manager speaks only wss:// and https://)');
  print(`  tls: { cert-file: ${f('manager.pem')}, key-file: ${f('manager.key')}, ca-file: ${f('ca.pem')} }`);
  print('# In the planet, at the top level (feeds between workers over mutual TLS; these files are for the workers `fluxcast up` starts):');
  print(`feeds: { tls: true, cert-file: ${f('feeds.pem')}, key-file: ${f('feeds.key')}, ca-file: ${f('ca.pem')} }`);
  for (const s of httpsServers(planet)) {
    print(`# In the properties of ${s.id} (${s.type}):`);
    print(`          tls-cert-file: ${f(`${httpsStem(s)}.pem`)}`);
    print(`          tls-key-file: ${f(`${httpsStem(s)}.key`)}`);
  }
  for (const id of plainOnly(planet)) print(`# ${id} (hls-streamer) has no TLS of its own: serve it through a porter with a certificate (porter: NAME)`);
  print('# Workers started by hand, each on its host (with ca.pem and its own certificate and key there):');
  for (const w of planet.workers) {
    print(`npx fluxcast worker --name ${w.name} --manager ${url} --ca-file ${sh('ca.pem')} --feed-cert ${sh(`worker-${w.name}.pem`)} --feed-key ${sh(`worker-${w.name}.key`)} --feed-ca ${sh('ca.pem')}`);
  }
  print('# Admin commands (or FLUXCAST_CA_FILE=' + sh('ca.pem') + '):');
  print(`npx fluxcast status --manager ${url} --ca-file ${sh('ca.pem')}`);
}
