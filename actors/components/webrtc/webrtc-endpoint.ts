// What the WHEP streamer and the WHIP producer share: their properties with the http-streamer's
// names (host, port, path, cors-origin, token-auth, TLS, porter, client-limit) plus the media
// network (udp-ports, advertise), and the life of their HTTP endpoint: served on its own port
// (HTTP or HTTPS) or mounted on a porter of the flow, its URLs as status shows them.

import { z } from 'zod';
import { PermanentError } from '../../component/component';
import { MountOwner, MountTable, mountTable } from '../../../transport/http/porter';
import { SignallingEndpoint, SignallingServer } from '../../../transport/webrtc/signalling-server';
import { PeerNetwork } from '../../../transport/webrtc/peer';
import { ServedAt, listenerUrls } from '../../../protocol/listener-urls';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** `FIRST-LAST`, a UDP port range for media. */
const udpPorts = z
  .string()
  .regex(/^\d{1,5}-\d{1,5}$/, 'must be FIRST-LAST, e.g. 40000-40099')
  .refine((s) => {
    const [a, b] = s.split('-').map(Number);
    return a >= 1024 && b <= 65535 && a < b;
  }, 'must be a range within 1024-65535, the first port below the last');

export function webrtcProperties(defaults: { port: number; path: string; clientLimit: number }) {
  return {
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(defaults.port),
    /** the endpoint; sessions live under it (/whep/ID) */
    path: z.string().regex(/^\/[A-Za-z0-9_.\-/]*[A-Za-z0-9_.-]$/, 'must start with / and not end with /').default(defaults.path),
    'cors-origin': z.string().regex(/^(\*|https?:\/\/[^\s,]+|)$/, "must be *, an origin such as https://example.org, or ''").default('*'),
    /** accepted Bearer tokens */
    'token-auth': z.array(z.string().min(1)).nonempty().optional(),
    'tls-cert-file': z.string().min(1).optional(),
    'tls-key-file': z.string().min(1).optional(),
    porter: z.string().regex(NAME).optional(),
    /** most sessions at once (0 = none) */
    'client-limit': z.number().int().min(0).max(100000).default(defaults.clientLimit),
    /** media ports (UDP), FIRST-LAST; default: ephemeral ports */
    'udp-ports': udpPorts.optional(),
    /** the address written into the ICE candidates (a public IP or name, for NAT) */
    advertise: z.string().regex(/^[A-Za-z0-9.:-]{1,253}$/, 'must be a host name or an IP address').optional(),
  };
}

export interface WebrtcEndpointProps {
  host: string;
  port: number;
  path: string;
  'cors-origin': string;
  'token-auth'?: string[];
  'tls-cert-file'?: string;
  'tls-key-file'?: string;
  porter?: string;
  'client-limit': number;
  'udp-ports'?: string;
  advertise?: string;
}

export const tlsPairRule = (p: { 'tls-cert-file'?: string; 'tls-key-file'?: string }): boolean => !p['tls-cert-file'] === !p['tls-key-file'];
export const tlsPorterRule = (p: { 'tls-cert-file'?: string; porter?: string }): boolean => !(p['tls-cert-file'] && p.porter);

export function peerNetwork(p: WebrtcEndpointProps): PeerNetwork {
  const range = p['udp-ports']?.split('-').map(Number) as [number, number] | undefined;
  return { host: p.host, udpPorts: range ?? null, advertise: p.advertise };
}

/** An endpoint's HTTP side as it runs: its server, where it is served, its porter mounts. */
export class EndpointHttp {
  private server: SignallingServer | null = null;
  private boundPort: number | null = null;
  private mounts: { table: MountTable; owner: MountOwner; paths: string[] } | null = null;

  constructor(
    private readonly owner: string,
    private readonly flow: string,
    private readonly p: WebrtcEndpointProps,
    private readonly log: (line: string) => void,
  ) {}

  get servedAt(): ServedAt | null {
    if (this.p.porter) return this.mounts ? this.mounts.table.address : null;
    return this.boundPort === null || !this.server ? null : { scheme: this.server.scheme, host: this.p.host, port: this.boundPort };
  }

  urls(advertiseHost: string): string[] {
    return listenerUrls({ at: this.servedAt, path: this.p.path, advertiseHost });
  }

  stats() {
    return this.server?.stats ?? null;
  }

  async start(endpoint: SignallingEndpoint): Promise<void> {
    const p = this.p;
    const tls = p['tls-cert-file'] && p['tls-key-file'] ? { certFile: p['tls-cert-file'], keyFile: p['tls-key-file'], log: this.log } : undefined;
    let server: SignallingServer;
    try {
      server = new SignallingServer(
        { host: p.host, port: p.port, path: p.path, corsOrigin: p['cors-origin'], tokens: p['token-auth'], clientLimit: p['client-limit'], maxPendingOffers: 32, tls, listen: !p.porter },
        endpoint,
      );
    } catch (e) {
      throw new PermanentError((e as Error).message); // unreadable or unusable TLS files
    }
    const port = await server.listen();
    this.server = server;
    if (!p.porter) {
      this.boundPort = port;
      return;
    }
    const table = mountTable(`/${this.flow}/${p.porter}`);
    const owner: MountOwner = { owner: this.owner, acceptHanded: (socket, raw) => server.acceptHanded(socket, raw) };
    const paths = [p.path, `${p.path}/`];
    for (const path of paths) {
      if (!table.add(path, owner)) {
        for (const q of paths) table.remove(q, owner);
        throw new PermanentError(`porter ${p.porter} already has something at ${path}`);
      }
    }
    this.mounts = { table, owner, paths };
  }

  async stop(): Promise<void> {
    if (this.mounts) for (const path of this.mounts.paths) this.mounts.table.remove(path, this.mounts.owner);
    this.mounts = null;
    this.boundPort = null;
    const s = this.server;
    this.server = null;
    await s?.close();
  }
}
