// TLS material for fluxcast's listeners and connections: PEM files read with coded errors,
// server options (optionally requiring a client certificate from the planet's CA), client
// options that verify the peer against a CA, and reloading a server's certificate when its
// files change or on SIGHUP, without dropping anyone connected.

import * as fs from 'fs';
import * as tls from 'tls';
import { FluxError } from '../protocol/errors';
import { TLS_ERROR_CODES } from './errors';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** The CA that signs the peers (feeds), or a private CA for clients to trust. */
  caFile?: string;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

function read(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new FluxError(TLS_ERROR_CODES.CANNOT_READ, `cannot read the ${what} '${file}': ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
}

export function readTls(files: TlsFiles): TlsMaterial {
  const m: TlsMaterial = { cert: read(files.certFile, 'certificate'), key: read(files.keyFile, 'private key') };
  if (files.caFile) m.ca = read(files.caFile, 'CA certificate');
  try {
    tls.createSecureContext(m); // a wrong or mismatched key is a clear error now, not at the first client
  } catch (e) {
    throw new FluxError(TLS_ERROR_CODES.BAD_MATERIAL, `the certificate ${files.certFile} and key ${files.keyFile} cannot be used: ${(e as Error).message}`);
  }
  return m;
}

export function readCa(file: string): Buffer {
  return read(file, 'CA certificate');
}

/** Server options; with `mutual`, a client must present a certificate signed by the CA. */
export function serverOptions(m: TlsMaterial, mutual = false, handshakeTimeoutMs = 10000): tls.TlsOptions {
  return { cert: m.cert, key: m.key, ca: m.ca, requestCert: mutual, rejectUnauthorized: mutual, handshakeTimeout: handshakeTimeoutMs, minVersion: 'TLSv1.2' };
}

/**
 * Client options for a feed connection: our certificate, the planet's CA to verify the server.
 * The server's identity is the CA's signature (and the feed secret's proof), not a host name:
 * workers reach each other by whatever address they advertise.
 */
export function feedClientOptions(m: TlsMaterial): tls.ConnectionOptions {
  return { cert: m.cert, key: m.key, ca: m.ca, rejectUnauthorized: true, checkServerIdentity: () => undefined, minVersion: 'TLSv1.2' };
}

/**
 * Reloads a TLS server's certificate when its files change (polled every second) or on SIGHUP;
 * connections already made keep theirs. Returns the function that stops watching.
 */
export function reloadOnChange(server: tls.Server, files: TlsFiles, log: (line: string) => void): () => void {
  const reload = (why: string) => {
    try {
      const m = readTls(files);
      server.setSecureContext({ cert: m.cert, key: m.key, ca: m.ca });
      log(`TLS certificate reloaded (${why})`);
    } catch (e) {
      log(`TLS certificate not reloaded (${why}): ${(e as Error).message}`);
    }
  };
  const watched = [files.certFile, files.keyFile];
  const onFile = (cur: fs.Stats, prev: fs.Stats) => {
    if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size) reload('file changed');
  };
  for (const f of watched) fs.watchFile(f, { interval: 1000, persistent: false }, onFile);
  const onHup = () => reload('SIGHUP');
  process.on('SIGHUP', onHup);
  return () => {
    for (const f of watched) fs.unwatchFile(f, onFile);
    process.removeListener('SIGHUP', onHup);
  };
}
