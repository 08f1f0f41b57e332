// What a manager's port speaks, asked only after a connection to it failed: a ws:// client that
// met a TLS port (which resets a hello that is not TLS) or a wss:// client that met a plain port
// (which answers the TLS hello with an HTTP 400) gets a coded hint instead of ECONNRESET or EPROTO.
// Each probe is one short connection with a deadline; a port that is simply unreachable is not probed.

import * as net from 'net';
import * as tls from 'tls';
import { FluxError } from '../protocol/errors';
import { SCHEME_ERROR_CODES } from './errors';

/** Failures that say nothing about the scheme: nobody listens, no route, no such name. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EADDRNOTAVAIL']);
/** A TLS handshake that got as far as the certificate: the port speaks TLS, the scheme was right. */
const CERTIFICATE_ERROR = /CERT|SIGNATURE|UNABLE_TO|SELF_SIGNED|HOSTNAME|ERR_TLS_/;

/** Whether HOST:PORT completes a TLS handshake (its certificate is not judged: only what it speaks). */
export function completesTlsHandshake(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: false, timeout: timeoutMs });
    const end = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.once('secureConnect', () => end(true));
    s.once('error', () => end(false));
    s.once('timeout', () => end(false));
    s.once('close', () => end(false));
  });
}

/** Whether HOST:PORT answers a plain HTTP request with an HTTP status line. */
export function answersPlainHttp(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: timeoutMs });
    let got = '';
    const end = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => s.write(`HEAD /status.json HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.length >= 12) end(/^HTTP\/1\.[01] \d{3}/.test(got));
    });
    s.once('error', () => end(false));
    s.once('timeout', () => end(false));
    s.once('close', () => end(/^HTTP\/1\.[01] \d{3}/.test(got)));
  });
}

/**
 * After a connection to a manager URL failed with `errorCode`: the hint when the port speaks the
 * other scheme (TLS for a ws:// URL, plain HTTP for a wss:// one), else null.
 */
export async function schemeMismatch(url: string, errorCode: string | undefined, timeoutMs = 2000): Promise<FluxError | null> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (errorCode && (UNREACHABLE.has(errorCode) || CERTIFICATE_ERROR.test(errorCode))) return null;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || (u.protocol === 'wss:' ? 443 : 80));
  const where = `${u.hostname}:${port}`;
  if (u.protocol === 'ws:' && (await completesTlsHandshake(host, port, timeoutMs))) {
    return new FluxError(SCHEME_ERROR_CODES.MANAGER_SPEAKS_TLS, `the manager at ${where} speaks TLS: use --manager wss://${where} (and --ca-file for a private CA)`);
  }
  if (u.protocol === 'wss:' && (await answersPlainHttp(host, port, timeoutMs))) {
    return new FluxError(SCHEME_ERROR_CODES.MANAGER_SPEAKS_PLAIN, `the manager at ${where} does not speak TLS (its planet has no manager.tls): use --manager ws://${where}`);
  }
  return null;
}
