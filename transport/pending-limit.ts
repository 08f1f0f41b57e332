// Bounds the connections that have not yet said who they are (a feed handshake, an HTTP request
// head, a manager login), overall and per source address, without letting anyone fill the
// room: when a bound is reached, the oldest pending connection (of that address, else of all)
// is evicted to make room for the new one. A peer that completes its handshake in milliseconds
// is never shut out by thousands of silent ones reopened as they time out.

export interface PendingLimits {
  /** Pending connections at most, overall. */
  maxTotal: number;
  /** Pending connections at most from one address. */
  maxPerAddress: number;
}

export interface PendingEntry {
  readonly address: string;
  /** Called when the entry is evicted to make room: close the connection. */
  readonly evict: () => void;
}

export class PendingLimiter {
  private readonly order: PendingEntry[] = [];
  private readonly byAddress = new Map<string, PendingEntry[]>();
  evicted = 0;

  constructor(readonly limits: PendingLimits) {}

  get size(): number {
    return this.order.length;
  }

  countFor(address: string): number {
    return this.byAddress.get(address)?.length ?? 0;
  }

  /** Admits a new pending connection, evicting the oldest one(s) past the bounds. */
  admit(address: string, evict: () => void): PendingEntry {
    const entry: PendingEntry = { address, evict };
    const mine = this.byAddress.get(address) ?? [];
    if (mine.length >= this.limits.maxPerAddress) this.evictOne(mine[0]);
    else if (this.order.length >= this.limits.maxTotal) this.evictOne(this.order[0]);
    this.order.push(entry);
    const list = this.byAddress.get(address) ?? [];
    list.push(entry);
    this.byAddress.set(address, list);
    return entry;
  }

  /** The connection said who it is (or went away): it no longer counts. Idempotent. */
  done(entry: PendingEntry): void {
    const i = this.order.indexOf(entry);
    if (i < 0) return;
    this.order.splice(i, 1);
    const list = this.byAddress.get(entry.address);
    if (!list) return;
    const j = list.indexOf(entry);
    if (j >= 0) list.splice(j, 1);
    if (!list.length) this.byAddress.delete(entry.address);
  }

  private evictOne(entry: PendingEntry | undefined): void {
    if (!entry) return;
    this.done(entry);
    this.evicted++;
    entry.evict();
  }
}

/** The address a socket came from, for per-address bounds (IPv4-mapped IPv6 as plain IPv4). */
export function peerAddress(remote: string | undefined): string {
  if (!remote) return '?';
  return remote.startsWith('::ffff:') ? remote.slice(7) : remote;
}
