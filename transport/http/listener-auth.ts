// Listener credentials of an http-streamer: a token (`?token=` or `Authorization: Bearer`) or
// HTTP Basic user and password. Every comparison takes the same time whatever the guess, and
// every token is compared, so neither the content nor the position of a match leaks.

import { RequestHead } from '../../protocol/http/request-head';
import { sameSecret } from '../../protocol/compare';

export type ListenerAuth = { type: 'token'; tokens: string[] } | { type: 'basic'; users: Record<string, string>; realm?: string };

/** The user name ('-' when anonymous or by token), or null when the request must be refused. */
export function authenticate(auth: ListenerAuth | undefined, head: RequestHead): string | null {
  if (!auth) return '-';
  if (auth.type === 'token') {
    const token = head.query.get('token') ?? /^Bearer\s+(.+)$/i.exec(head.headers.get('authorization') ?? '')?.[1];
    if (token === undefined || token === null) return null;
    let ok = false;
    for (const t of auth.tokens) ok = sameSecret(token, t) || ok;
    return ok ? '-' : null;
  }
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(head.headers.get('authorization') ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const user = decoded.slice(0, colon);
  const known = Object.prototype.hasOwnProperty.call(auth.users, user);
  const ok = sameSecret(decoded.slice(colon + 1), known ? auth.users[user] : '\u0000not a password');
  return known && ok ? user : null;
}
