// A short-lived admin connection to the manager, for `fluxcast status`, `reload` and
// `fluxcast component ...` (listeners and kicks too): log in (challenge-response), ask one
// thing, return the answer. A connection that fails is explained: by its code, or by the
// scheme the port really speaks.

import WebSocket from 'ws';
import { FluxError } from '../protocol/errors';
import { FromManager, ToManager, WIRE_ERROR_CODES as E, fromManagerSchema, loginResponse, newNonce, verifyManagerProof } from '../protocol/wire';
import { WsChannel } from './ws-channel';
import { schemeMismatch } from './scheme-probe';

export async function adminRequest(url: string, secret: string, request: (requestId: number) => ToManager, timeoutMs = 5000, ca?: Buffer): Promise<FromManager> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: timeoutMs, ca });
    // First: a connection or TLS error (with its code, e.g. CERT_HAS_EXPIRED) is the reason, not
    // the close after it; a port that speaks the other scheme (ws:// to TLS...) says so instead.
    let failed = false;
    ws.on('error', (e: NodeJS.ErrnoException) => {
      failed = true;
      void schemeMismatch(url, e.code).then((hint) => done(hint ?? new FluxError('FLUX_CLI_CANNOT_CONNECT', `cannot reach the manager at ${url}: ${e.code ?? e.message}`)));
    });
    const ch = new WsChannel<FromManager, ToManager>(ws, fromManagerSchema);
    const timer = setTimeout(() => done(new FluxError(E.HEARTBEAT_TIMEOUT, `no answer from ${url} within ${timeoutMs} ms`)), timeoutMs);
    let settled = false;
    const done = (v: FromManager | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ch.close();
      if (v instanceof Error) reject(v);
      else resolve(v);
    };
    const clientNonce = newNonce();
    let nonce: string | null = null;
    ch.on('message', (m) => {
      if (m.type === 'challenge') {
        nonce = m.nonce;
        ch.send({ type: 'login', role: 'admin', name: 'admin', response: loginResponse(secret, m.nonce, 'admin', 'admin'), clientNonce });
      } else if (m.type === 'welcome') {
        if (!nonce || !verifyManagerProof(secret, clientNonce, nonce, 'admin', 'admin', m.proof)) {
          done(new FluxError(E.MANAGER_UNVERIFIED, `${url} did not prove it knows the admin secret: not our manager`));
          return;
        }
        ch.send(request(1));
      }
      else if (m.type === 'refused') done(new FluxError(m.code, m.reason));
      else if (m.type === 'status' || m.type === 'command-result' || m.type === 'reload-result' || m.type === 'listeners-result') done(m);
      else if (m.type === 'error') done(new FluxError(m.code, m.reason));
    });
    ch.on('close', () => {
      if (!failed) done(new FluxError('FLUX_CLI_CANNOT_CONNECT', `the manager at ${url} closed the connection`));
    });
  });
}
