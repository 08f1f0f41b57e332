// Listener URLs: every URL a listener can use to reach a stream, the primary first: the
// streamer's `public-url` (as listeners reach it through a reverse proxy or NAT) when set, then
// the socket it is served on (its own, or its porter's). Never a wildcard address: a server
// bound to every interface is shown at the worker's advertised address. Pure: no I/O.

import { z } from 'zod';

/** Where a stream is served: the scheme, the bound address and the bound port (its own or its porter's). */
export interface ServedAt {
  scheme: 'http' | 'https';
  /** The address the socket is bound to, as configured (`0.0.0.0`, `::`, `127.0.0.1`, a name...). */
  host: string;
  port: number;
}

/** Addresses that mean "every interface" (never a place to send a listener). */
export function isWildcardHost(host: string): boolean {
  const h = bare(host);
  return h === '' || h === '0.0.0.0' || (h.includes(':') && /^[0:]+$/.test(h)); // IPv6: all zeros (::)
}

/** 127.0.0.0/8, ::1 and localhost: reachable from the same machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = bare(host).toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

/** `[::1]` → `::1`. */
function bare(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

/** A host as written in a URL: IPv6 literals in brackets. */
function urlHost(host: string): string {
  const h = bare(host);
  return h.includes(':') ? `[${h}]` : h;
}

/**
 * The host listeners reach a socket at: the bound address, or, for a socket bound to every
 * interface, `advertiseHost` (the worker's advertised address).
 */
export function reachableHost(bindHost: string, advertiseHost: string): string {
  return isWildcardHost(bindHost) ? advertiseHost : bindHost;
}

/** The URL of `path` on a socket, without the default port of its scheme. */
export function directUrl(at: ServedAt, path: string, advertiseHost: string): string {
  const port = (at.scheme === 'http' && at.port === 80) || (at.scheme === 'https' && at.port === 443) ? '' : `:${at.port}`;
  return `${at.scheme}://${urlHost(reachableHost(at.host, advertiseHost))}${port}${path}`;
}

/**
 * Every URL a listener can use for a stream, the primary first: `publicUrl` (when set), then the
 * URL of the socket it is served on. None while it is served nowhere (`at` null: not bound yet,
 * or it could not bind, or its porter is not listening): a URL is only shown when it answers.
 * This is the function behind `details.urls` (status, API, `up`'s banner) and Icecast's
 * `listenurl`.
 */
export function listenerUrls(o: { at: ServedAt | null; path: string; publicUrl?: string; advertiseHost: string }): string[] {
  if (!o.at) return [];
  const direct = directUrl(o.at, o.path, o.advertiseHost);
  return o.publicUrl && o.publicUrl !== direct ? [o.publicUrl, direct] : [direct];
}

/** A `public-url` property: an absolute http:// or https:// URL with a host, without credentials or fragment. */
export const publicUrlSchema = z
  .string()
  .max(2048)
  .refine(
    (s) => {
      let u: URL;
      try {
        u = new URL(s);
      } catch {
        return false;
      }
      return (u.protocol === 'http:' || u.protocol === 'https:') && !!u.hostname && !u.username && !u.password && !u.hash && !isWildcardHost(u.hostname) && !/\s/.test(s);
    },
    { message: 'must be an absolute http:// or https:// URL as listeners reach it, e.g. https://radio.example.org/live.ogg (no credentials, no #fragment, not 0.0.0.0)' },
  );
