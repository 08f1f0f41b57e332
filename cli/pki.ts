// A private CA and the certificates it signs, made with the openssl command (keys by Node's
// crypto: EC P-256, PKCS#8, written 0600), shared by `fluxcast certs init` and the test helpers.
// It never overwrites a file by itself: callers decide; it checks whether an existing pair can be kept.

import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FluxError } from '../protocol/errors';
import { CLI_ERROR_CODES } from './errors';

/** Subject alternative names: DNS names and IP addresses. */
export interface Names {
  dns: string[];
  ips: string[];
}

export interface Pair {
  cert: string;
  key: string;
}

/** Validity of a certificate: days from now, or exact dates (tests make expired ones). */
export type Validity = { days: number } | { notBefore: Date; notAfter: Date };

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: 'pipe' });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new FluxError(CLI_ERROR_CODES.NO_OPENSSL, 'the openssl command is not installed (Debian: apt-get install openssl)');
    const said = (err.stderr?.toString() ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
    throw new FluxError(CLI_ERROR_CODES.OPENSSL_FAILED, `openssl ${args[0]} failed: ${said[said.length - 1] ?? err.message}`);
  }
}

/** Runs `fn` in a fresh private working directory (openssl's config and database), removed afterwards. */
function inScratch<T>(fn: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fluxcast-pki-'));
  try {
    return fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A new EC P-256 private key in `file` (which must not exist), mode 0600 from its creation. */
export function writeKey(file: string): void {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600, flag: 'wx' });
}

const REQ_CONFIG = [
  '[req]',
  'distinguished_name = dn',
  'prompt = no',
  '[dn]',
  '[ca_ext]',
  'basicConstraints = critical,CA:TRUE,pathlen:0',
  'keyUsage = critical,keyCertSign,cRLSign',
  'subjectKeyIdentifier = hash',
  '',
].join('\n');

function dateArgs(v: Validity): string[] {
  if ('days' in v) return ['-days', String(v.days)];
  const asn1 = (d: Date) => d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
  return ['-startdate', asn1(v.notBefore), '-enddate', asn1(v.notAfter)];
}

/** A self-signed CA certificate for the key in `pair.key` (which must exist), written to `pair.cert`. */
export function makeCaCert(pair: Pair, commonName: string, days: number): void {
  inScratch((dir) => {
    fs.writeFileSync(path.join(dir, 'req.cnf'), REQ_CONFIG);
    const out = path.join(dir, 'ca.pem');
    openssl(['req', '-x509', '-new', '-config', 'req.cnf', '-extensions', 'ca_ext', '-key', path.resolve(pair.key), '-subj', `/CN=${commonName}`, '-days', String(days), '-sha256', '-out', out], dir);
    fs.copyFileSync(out, pair.cert);
  });
}

/**
 * A certificate for the key in `pair.key` (which must exist), signed by the CA, written to
 * `pair.cert`: for servers and clients both (TLS feeds are mutual), with these names.
 */
export function issueCert(ca: Pair, pair: Pair, commonName: string, names: Names, validity: Validity): void {
  inScratch((dir) => {
    const alt = [...names.dns.map((n, i) => `DNS.${i + 1} = ${n}`), ...names.ips.map((n, i) => `IP.${i + 1} = ${n}`)];
    fs.writeFileSync(path.join(dir, 'req.cnf'), REQ_CONFIG);
    fs.writeFileSync(
      path.join(dir, 'leaf.cnf'),
      ['[leaf]', 'basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature', 'extendedKeyUsage = serverAuth,clientAuth',
        'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid', ...(alt.length ? ['subjectAltName = @alt', '[alt]', ...alt] : []), ''].join('\n'),
    );
    // `openssl ca` (not `x509 -req`) because it takes exact dates; its database lives in the scratch dir.
    fs.writeFileSync(path.join(dir, 'index.txt'), '');
    // A random positive 128-bit serial: no two certificates of a CA share one.
    const serial = crypto.randomBytes(16);
    serial[0] &= 0x7f;
    fs.writeFileSync(path.join(dir, 'serial'), serial.toString('hex') + '\n');
    fs.writeFileSync(
      path.join(dir, 'ca.cnf'),
      ['[ca]', 'default_ca = fc', '[fc]', 'database = index.txt', 'serial = serial', 'new_certs_dir = .', 'default_md = sha256', 'policy = any', 'unique_subject = no', 'email_in_dn = no', '[any]', 'commonName = supplied', ''].join('\n'),
    );
    openssl(['req', '-new', '-config', 'req.cnf', '-key', path.resolve(pair.key), '-subj', `/CN=${commonName}`, '-out', 'leaf.csr'], dir);
    const out = path.join(dir, 'leaf.pem');
    openssl(['ca', '-batch', '-config', 'ca.cnf', '-cert', path.resolve(ca.cert), '-keyfile', path.resolve(ca.key), '-notext',
      '-extfile', 'leaf.cnf', '-extensions', 'leaf', '-in', 'leaf.csr', '-out', out, ...dateArgs(validity)], dir);
    fs.copyFileSync(out, pair.cert);
  });
}

/** The names a certificate holds, as `DNS:x` / `IP:y`, sorted. */
export function namesOf(cert: crypto.X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter(Boolean)
    .map((n) => n.replace(/^IP Address:/, 'IP:'))
    .sort();
}

export function nameList(names: Names): string[] {
  return [...names.dns.map((n) => `DNS:${n}`), ...names.ips.map((n) => `IP:${canonicalIp(n)}`)].sort();
}

/** An IP address as X.509 tools print it (IPv6 expanded by openssl and Node alike: lower-case, no zero compression). */
function canonicalIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g, 16).toString(16).toUpperCase()).join(':');
}

function readPem(file: string): { ok: true; text: Buffer } | { ok: false; why: string } {
  try {
    return { ok: true, text: fs.readFileSync(file) };
  } catch (e) {
    return { ok: false, why: `cannot read ${path.basename(file)} (${(e as NodeJS.ErrnoException).code ?? e})` };
  }
}

/** Why the CA pair in DIR cannot be used (null: it can). */
export function caProblem(ca: Pair, now = new Date()): string | null {
  const c = readPem(ca.cert);
  const k = readPem(ca.key);
  if (!c.ok) return c.why;
  if (!k.ok) return k.why;
  try {
    const x = new crypto.X509Certificate(c.text);
    if (!x.ca) return `${path.basename(ca.cert)} is not a CA certificate`;
    if (!x.checkPrivateKey(crypto.createPrivateKey(k.text))) return `${path.basename(ca.key)} is not the key of ${path.basename(ca.cert)}`;
    if (new Date(x.validTo) <= now) return `${path.basename(ca.cert)} expired on ${new Date(x.validTo).toISOString()}`;
  } catch (e) {
    return `${path.basename(ca.cert)} or ${path.basename(ca.key)} is not PEM that openssl would take (${(e as Error).message})`;
  }
  return null;
}

/**
 * Why an existing certificate and key cannot be kept as they are (null: they can): not signed
 * by this CA, expired, a key that is not theirs, or other names than wanted.
 */
export function pairProblem(ca: crypto.X509Certificate, pair: Pair, names: Names, now = new Date()): string | null {
  const c = readPem(pair.cert);
  const k = readPem(pair.key);
  if (!c.ok) return c.why;
  if (!k.ok) return k.why;
  try {
    const x = new crypto.X509Certificate(c.text);
    if (!x.verify(ca.publicKey)) return 'signed by another CA';
    if (new Date(x.validTo) <= now) return `expired on ${new Date(x.validTo).toISOString()}`;
    if (!x.checkPrivateKey(crypto.createPrivateKey(k.text))) return `${path.basename(pair.key)} is not its key`;
    const has = namesOf(x).join(', ');
    const wants = nameList(names).join(', ');
    if (has !== wants) return `its names are ${has || '(none)'}, not ${wants}`;
  } catch (e) {
    return `not PEM that openssl would take (${(e as Error).message})`;
  }
  return null;
}
