// The operator's surface on the manager's port: the HTTP API (/api/v1), its live event stream
// (Server-Sent Events), Prometheus metrics (/metrics), /status.json and the web admin (/admin/).
// Everything needs the admin secret: HTTP Basic (user `admin`) for scripts and Prometheus, or
// the web admin's session cookie, with a CSRF token on every POST and DELETE from the page. A
// refusal is JSON `{ "error": { "code": "FLUX_...", "message": "..." } }` with a fitting status.
// This file routes and checks; what the planet is and does comes from the ManagerSurface.

import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { CommandResult, ListenersAnswer, PlanetIssue, ReloadResult, StatusJson } from '../protocol/status';
import type { StreamerSample } from '../actors/manager/samples';
import { LISTENER_ID } from '../protocol/wire';
import { PROTOCOL_ERROR_CODES as P } from '../protocol/errors';
import { PlanetEvent } from './events';
import { AdminSessions, Session } from './sessions';
import { API_ERROR_CODES as E } from './errors';

export type ReloadOutcome = { ok: true; result: ReloadResult } | { ok: false; code: string; message: string; issues?: PlanetIssue[] };

/** What the manager offers its operators. */
export interface ManagerSurface {
  status(): Promise<StatusJson>;
  command(action: 'start' | 'stop' | 'restart', id: string): Promise<CommandResult>;
  reload(): Promise<ReloadOutcome>;
  /** A component's listeners, or (with `kick`) the disconnection of one. */
  listeners(id: string, kick?: string): Promise<ListenersAnswer>;
  /** A streamer's audience samples taken after `since` (ms), or null when `id` is no streamer. */
  samples(id: string, since?: number): { samples: StreamerSample[]; intervalMs: number } | null;
  /** The last lasting events (moods, workers, reloads, commands, restarts), oldest first. */
  eventHistory(): PlanetEvent[];
  readonly events: EventEmitter<{ event: [PlanetEvent] }>;
  metrics(): Promise<{ contentType: string; text: string }>;
}

export interface ApiOptions {
  adminSecret: string;
  /** Serve flows, component names, moods and listener counts at /status.json without credentials. */
  publicStatus: boolean;
  /** The manager speaks HTTPS: cookies get `Secure`. */
  secure: boolean;
  log(line: string): void;
}

const PAGE_DIR = [path.join(__dirname, 'page'), path.resolve(__dirname, '../dist/admin/page'), path.resolve(__dirname, '../../admin/page')];
const ASSETS: Record<string, { file: string; type: string }> = {
  '/admin/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/admin/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};
/** The page's ES modules (admin/page/*.ts compiled): /admin/NAME.js. */
const PAGE_MODULE = /^\/admin\/([a-z][a-z-]{0,30})\.js$/;
const MAX_BODY = 64 * 1024;
const SSE_KEEPALIVE_MS = 15000;

function findAsset(file: string): string | null {
  for (const dir of PAGE_DIR) {
    const f = path.join(dir, file);
    if (fs.existsSync(f)) return f;
  }
  return null;
}

export class AdminApi {
  readonly sessions: AdminSessions;
  private readonly sse = new Set<http.ServerResponse>();
  private keepAlive: NodeJS.Timeout | null = null;

  constructor(
    private readonly m: ManagerSurface,
    private readonly o: ApiOptions,
  ) {
    this.sessions = new AdminSessions(o.adminSecret);
    m.events.on('event', (e) => this.broadcast(e));
  }

  /** Ends every event stream (the manager closes). */
  close(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = null;
    for (const r of this.sse) r.end();
    this.sse.clear();
  }

  handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.route(req, res).catch((e: Error) => {
      this.o.log(`manager: API error on ${req.method} ${req.url}: ${e.message}`);
      if (!res.headersSent) this.error(res, 500, E.INTERNAL, 'internal error');
      else res.end();
    });
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://manager');
    const p = url.pathname;
    const method = req.method ?? 'GET';
    if (p === '/') return this.redirect(res, '/admin/');
    if (p === '/admin') return this.redirect(res, '/admin/');
    if (ASSETS[p] && (method === 'GET' || method === 'HEAD')) return this.asset(res, ASSETS[p], method === 'HEAD');
    const module = PAGE_MODULE.exec(p);
    if (module && (method === 'GET' || method === 'HEAD')) return this.asset(res, { file: `${module[1]}.js`, type: 'text/javascript; charset=utf-8' }, method === 'HEAD');
    if (p === '/admin/login' && method === 'POST') return this.login(req, res);
    if (p === '/admin/logout' && method === 'POST') return this.logout(req, res);

    const session = this.sessions.fromCookie(req.headers.cookie);
    const basic = this.sessions.basicOk(req.headers.authorization);
    const authed = basic || !!session;

    if (p === '/status.json' && method === 'GET') {
      if (authed) return this.json(res, 200, await this.m.status());
      if (this.o.publicStatus) return this.json(res, 200, publicStatus(await this.m.status()));
      return this.unauthorized(req, res);
    }
    if (!p.startsWith('/api/v1/') && p !== '/metrics') return this.error(res, 404, E.NOT_FOUND, `nothing at ${p}`);
    if (!authed) return this.unauthorized(req, res);
    if (method !== 'GET' && method !== 'HEAD' && !basic && session && !this.sessions.csrfOk(session, headerValue(req.headers['x-csrf-token']))) {
      return this.error(res, 403, E.FORBIDDEN, 'missing or wrong CSRF token (X-CSRF-Token)');
    }

    if (p === '/metrics' && method === 'GET') {
      const { contentType, text } = await this.m.metrics();
      res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
      res.end(text);
      return;
    }
    if (p === '/api/v1/session' && method === 'GET') return this.json(res, 200, { user: 'admin', csrf: session?.csrf ?? null, expires: session?.expires ?? null });
    if (p === '/api/v1/planet' && method === 'GET') return this.json(res, 200, await this.m.status());
    if (p === '/api/v1/events' && method === 'GET') return this.events(req, res);
    if (p === '/api/v1/events/history' && method === 'GET') return this.json(res, 200, { events: this.m.eventHistory() });
    if (p === '/api/v1/planet/reload' && method === 'POST') {
      await drain(req);
      const r = await this.m.reload();
      if (r.ok) return this.json(res, 200, { ok: true, ...r.result });
      return this.json(res, 422, { error: { code: r.code, message: r.message, issues: r.issues ?? [] } });
    }
    const lm = /^\/api\/v1\/components\/([^/]+)\/([^/]+)\/listeners(?:\/([^/]+))?$/.exec(p);
    if (lm) {
      const [flow, name, listener] = [lm[1], lm[2], lm[3]].map((x) => (x === undefined ? undefined : safeDecode(x)));
      if (flow === null || name === null || listener === null) return this.error(res, 400, E.BAD_REQUEST, `malformed escape in ${p}`);
      return this.listeners(req, res, `/${flow}/${name}`, listener);
    }
    const cm = /^\/api\/v1\/components\/([^/]+)\/([^/]+)(?:\/(start|stop|restart|history))?$/.exec(p);
    if (cm) {
      const id = `/${decodeURIComponent(cm[1])}/${decodeURIComponent(cm[2])}`;
      if (!cm[3] && method === 'GET') {
        const c = (await this.m.status()).components.find((x) => x.id === id);
        return c ? this.json(res, 200, c) : this.error(res, 404, P.MANAGER_NO_SUCH_COMPONENT, `no component ${id}`);
      }
      if (cm[3] === 'history') {
        if (method !== 'GET') return this.error(res, 405, E.METHOD_NOT_ALLOWED, `${method} is not allowed on ${p}`);
        return this.history(res, id, url.searchParams.get('since'));
      }
      if (cm[3] && method === 'POST') {
        await drain(req);
        const r = await this.m.command(cm[3] as 'start' | 'stop' | 'restart', id);
        if (r.ok) return this.json(res, 200, { ok: true, message: r.message });
        const status = r.code === P.MANAGER_NO_SUCH_COMPONENT ? 404 : 409;
        return this.error(res, status, r.code ?? P.MANAGER_BAD_STATE, r.message);
      }
      return this.error(res, 405, E.METHOD_NOT_ALLOWED, `${method} is not allowed on ${p}`);
    }
    return this.error(res, 404, E.NOT_FOUND, `nothing at ${p}`);
  }

  /**
   * `GET .../listeners`: `{"listeners": [...], "total": N}` (oldest first, at most 10,000);
   * `DELETE .../listeners/ID`: disconnects that listener, `{"ok": true}`.
   */
  private async listeners(req: http.IncomingMessage, res: http.ServerResponse, id: string, listener: string | undefined): Promise<void> {
    const method = req.method ?? 'GET';
    if (listener === undefined && method !== 'GET') return this.error(res, 405, E.METHOD_NOT_ALLOWED, `${method} is not allowed on the listeners of ${id} (GET lists them)`);
    if (listener !== undefined && method !== 'DELETE') return this.error(res, 405, E.METHOD_NOT_ALLOWED, `${method} is not allowed on a listener (DELETE disconnects it)`);
    if (method === 'DELETE') await drain(req);
    if (listener !== undefined && !LISTENER_ID.test(listener)) return this.error(res, 404, P.HTTP_NO_SUCH_LISTENER, `${id} has no listener ${JSON.stringify(listener.slice(0, 80))}`);
    const a = await this.m.listeners(id, listener);
    if (!a.ok) return this.error(res, LISTENER_REFUSALS[a.code ?? ''] ?? 500, a.code ?? E.INTERNAL, a.message ?? 'refused');
    if (listener !== undefined) return this.json(res, 200, { ok: true });
    return this.json(res, 200, { listeners: a.listeners ?? [], total: a.total ?? a.listeners?.length ?? 0 });
  }

  /** A streamer's samples: all of the last 30 minutes, or those after `?since=` (ms since the epoch). */
  private async history(res: http.ServerResponse, id: string, sinceText: string | null): Promise<void> {
    let since: number | undefined;
    if (sinceText !== null) {
      since = /^\d{1,16}$/.test(sinceText) ? Number(sinceText) : NaN;
      if (!Number.isSafeInteger(since)) return this.error(res, 400, E.BAD_REQUEST, `since: a time in ms since the epoch (digits only), not '${sinceText.slice(0, 40)}'`);
    }
    if (!(await this.m.status()).components.some((x) => x.id === id)) return this.error(res, 404, P.MANAGER_NO_SUCH_COMPONENT, `no component ${id}`);
    const h = this.m.samples(id, since);
    if (!h) return this.error(res, 404, E.NOT_FOUND, `${id} is no streamer: it keeps no listener history`);
    return this.json(res, 200, h);
  }

  private events(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write(': fluxcast events\n\n');
    this.sse.add(res);
    req.socket.setTimeout(0);
    req.on('close', () => this.sse.delete(res));
    // The current state first, so a page (or a script) starts from a full picture.
    void this.m.status().then((st) => res.write(`event: status\ndata: ${JSON.stringify(st)}\n\n`));
    if (!this.keepAlive) {
      this.keepAlive = setInterval(() => {
        for (const r of this.sse) r.write(': keep-alive\n\n');
      }, SSE_KEEPALIVE_MS);
      this.keepAlive.unref();
    }
  }

  private broadcast(e: PlanetEvent): void {
    if (!this.sse.size) return;
    const line = `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
    for (const r of this.sse) r.write(line);
  }

  private async login(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const address = req.socket.remoteAddress ?? '?';
    const wait = this.sessions.waitFor(address);
    if (wait > 0) {
      await drain(req);
      res.setHeader('Retry-After', String(Math.ceil(wait / 1000)));
      return this.error(res, 429, E.TOO_MANY_ATTEMPTS, `too many failed logins: try again in ${Math.ceil(wait / 1000)} s`);
    }
    let body: string;
    try {
      body = await readBody(req);
    } catch (e) {
      return this.error(res, 413, E.BAD_REQUEST, (e as Error).message);
    }
    const secret = new URLSearchParams(body).get('secret') ?? '';
    const s = this.sessions.login(address, secret);
    if (!s) {
      this.o.log(`manager: failed web admin login from ${address}`);
      return this.error(res, 401, E.UNAUTHORIZED, 'wrong admin secret');
    }
    res.writeHead(200, { 'Set-Cookie': this.sessions.cookie(s, this.o.secure), 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify({ ok: true, csrf: s.csrf, expires: s.expires }));
  }

  private async logout(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    await drain(req);
    const s: Session | null = this.sessions.fromCookie(req.headers.cookie);
    if (s && this.sessions.csrfOk(s, headerValue(req.headers['x-csrf-token']))) this.sessions.logout(s);
    res.writeHead(200, { 'Set-Cookie': AdminSessions.clearCookie(), 'Content-Type': 'application/json' });
    res.end('{"ok":true}');
  }

  private asset(res: http.ServerResponse, a: { file: string; type: string }, headOnly: boolean): void {
    const f = findAsset(a.file);
    if (!f) return this.error(res, 404, E.NOT_FOUND, `admin page file ${a.file} is missing (npm run build)`);
    const body = fs.readFileSync(f);
    res.writeHead(200, {
      'Content-Type': a.type,
      'Content-Length': body.length,
      // The page is small and changes with fluxcast: always revalidate, never store credentials' answers.
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'self'; media-src *; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'",
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
    });
    res.end(headOnly ? undefined : body);
  }

  private unauthorized(req: http.IncomingMessage, res: http.ServerResponse): void {
    // Scripts are told how to authenticate; the web page (it has a cookie, or asks for JSON) gets no browser dialog.
    const fromPage = !!req.headers.cookie || /json|event-stream/.test(req.headers.accept ?? '');
    if (!fromPage) res.setHeader('WWW-Authenticate', 'Basic realm="fluxcast admin", charset="UTF-8"');
    this.error(res, 401, E.UNAUTHORIZED, 'the admin secret is needed (HTTP Basic user "admin", or log in at /admin/)');
  }

  private redirect(res: http.ServerResponse, to: string): void {
    res.writeHead(302, { Location: to });
    res.end();
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private error(res: http.ServerResponse, status: number, code: string, message: string): void {
    this.json(res, status, { error: { code, message } });
  }
}

/** The HTTP status of each coded refusal of a listing or a kick. */
const LISTENER_REFUSALS: Record<string, number> = {
  [P.MANAGER_NO_SUCH_COMPONENT]: 404,
  [P.HTTP_NO_SUCH_LISTENER]: 404,
  [P.MANAGER_NO_LISTENERS]: 409,
  [P.MANAGER_BAD_STATE]: 409,
  [P.MANAGER_NO_ANSWER]: 504,
};

/** What anyone may see when `public-status` is on: no hosts, pids, ports or messages. */
export function publicStatus(s: StatusJson): unknown {
  const flows = new Map<string, Array<{ name: string; mood: string; listeners?: number }>>();
  for (const c of s.components) {
    const list = flows.get(c.flow) ?? [];
    list.push({ name: c.name, mood: c.mood, ...(c.details?.clients !== undefined ? { listeners: c.details.clients } : {}) });
    flows.set(c.flow, list);
  }
  return { planet: s.planet, flows: [...flows].map(([name, components]) => ({ name, components })) };
}

/** decodeURIComponent, or null for a malformed escape. */
function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY) {
        reject(new Error(`request body over ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function drain(req: http.IncomingMessage): Promise<void> {
  return readBody(req).then(
    () => undefined,
    () => undefined,
  );
}
