// Who may use the operator's surface: the admin secret, given either with HTTP Basic (user
// `admin`, for scripts and Prometheus) or through the login form of the web admin, which gives
// an HttpOnly, SameSite=Strict session cookie with an expiry and a CSRF token that every POST
// from the page must carry. Secrets and tokens compare in constant time; failed logins slow
// down per source address. Pure bookkeeping, no I/O.

import { randomBytes } from 'crypto';
import { sameSecret } from '../protocol/compare';

export { sameSecret };

export const SESSION_COOKIE = 'fluxcast_session';

export interface Session {
  readonly id: string;
  readonly csrf: string;
  readonly expires: number;
}

export class AdminSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly failures = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly secret: string,
    readonly ttlMs = 12 * 3600 * 1000,
    private readonly maxSessions = 1000,
  ) {}

  /** HTTP Basic `admin:SECRET`. */
  basicOk(authorization: string | undefined): boolean {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization ?? '');
    if (!m) return false;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 && decoded.slice(0, colon) === 'admin' && sameSecret(decoded.slice(colon + 1), this.secret);
  }

  /** Milliseconds this address must still wait before its next login attempt (0: go ahead). */
  waitFor(address: string, now = Date.now()): number {
    const f = this.failures.get(address);
    return f && f.until > now ? f.until - now : 0;
  }

  /** The login form: a session for the right secret; null (and a slower next try) otherwise. */
  login(address: string, secret: string, now = Date.now()): Session | null {
    if (!sameSecret(secret, this.secret)) {
      const f = this.failures.get(address);
      const count = (f?.count ?? 0) + 1;
      this.failures.delete(address);
      this.failures.set(address, { count, until: now + Math.min(10000, 250 * 2 ** (count - 1)) });
      if (this.failures.size > 10000) this.failures.delete(this.failures.keys().next().value as string);
      return null;
    }
    this.failures.delete(address);
    const s: Session = { id: randomBytes(24).toString('hex'), csrf: randomBytes(24).toString('hex'), expires: now + this.ttlMs };
    this.sessions.set(s.id, s);
    if (this.sessions.size > this.maxSessions) this.sessions.delete(this.sessions.keys().next().value as string);
    return s;
  }

  /** The session a request's cookie names, if it is known and not expired. */
  fromCookie(cookieHeader: string | undefined, now = Date.now()): Session | null {
    const m = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([0-9a-f]{48})(?:;|$)`).exec(cookieHeader ?? '');
    if (!m) return null;
    const s = this.sessions.get(m[1]);
    if (!s) return null;
    if (s.expires <= now) {
      this.sessions.delete(s.id);
      return null;
    }
    return s;
  }

  logout(s: Session): void {
    this.sessions.delete(s.id);
  }

  csrfOk(s: Session, token: string | undefined): boolean {
    return !!token && sameSecret(token, s.csrf);
  }

  cookie(s: Session, secure: boolean): string {
    return `${SESSION_COOKIE}=${s.id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(this.ttlMs / 1000)}${secure ? '; Secure' : ''}`;
  }

  static clearCookie(): string {
    return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }
}
