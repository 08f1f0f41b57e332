// The porter component: one public port for several http-streamers (Flumotion's porter). It
// reads each request head and hands the connection to the streamer that mounted the path
// (streamers join with their `porter` property; see transport/http/porter.ts), answering 404
// itself for unknown paths. It has no eaters and no feeders; happy while it listens.

import { z } from 'zod';
import { Component, ComponentDetails } from '../component/component';
import { Porter, mountTable } from '../../transport/http/porter';
import { STREAM_SERVER_DEFAULTS } from '../../transport/http/stream-server';
import { defineComponentType, tcpOnHostPort } from './component-type';
import { directUrl } from '../../protocol/listener-urls';

export const porterProperties = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8800),
    /** connections still sending their request, at most */
    'max-pending': z.number().int().positive().default(1024),
    /** seconds a client may take to send its request */
    'header-timeout': z.number().positive().default(10),
    /** Access-Control-Allow-Origin of its /status-json.xsl ('' = none) */
    'cors-origin': z.string().regex(/^(\*|https?:\/\/[^\s,]+|)$/, "must be *, an origin such as https://example.org, or ''").default('*'),
    /** HTTPS: certificate and key files (reloaded when they change, or on SIGHUP) */
    'tls-cert-file': z.string().min(1).optional(),
    'tls-key-file': z.string().min(1).optional(),
  })
  .strict()
  .refine((p) => !p['tls-cert-file'] === !p['tls-key-file'], { message: 'tls-cert-file and tls-key-file go together' });
export type PorterProperties = z.infer<typeof porterProperties>;

export class PorterComponent extends Component<PorterProperties> {
  private porter: Porter | null = null;

  get id(): string {
    return `/${this.flow}/${this.name}`;
  }

  /** Its base URL (where its streamers' paths are), at the address listeners reach it (never 0.0.0.0). */
  get url(): string {
    return directUrl({ scheme: this.properties['tls-cert-file'] ? 'https' : 'http', host: this.properties.host, port: this.porter?.port ?? this.properties.port }, '', this.advertiseHost);
  }

  routes(): Array<{ mount: string; owner: string }> {
    return mountTable(this.id).routes();
  }

  override details(): ComponentDetails {
    return { url: this.url, routes: this.routes() };
  }

  protected async setup(): Promise<void> {
    const p = this.properties;
    const table = mountTable(this.id);
    this.porter = new Porter(table, {
      host: p.host,
      port: p.port,
      maxPending: p['max-pending'],
      headerTimeoutMs: p['header-timeout'] * 1000,
      maxHeaderBytes: STREAM_SERVER_DEFAULTS.maxHeaderBytes,
      maxUrlLength: STREAM_SERVER_DEFAULTS.maxUrlLength,
      corsOrigin: p['cors-origin'],
      tls: p['tls-cert-file'] && p['tls-key-file'] ? { certFile: p['tls-cert-file'], keyFile: p['tls-key-file'], log: (l) => this.addMessage('info', l) } : undefined,
    });
    const port = await this.porter.listen();
    table.address = { scheme: p['tls-cert-file'] ? 'https' : 'http', host: p.host, port };
    this.addMessage('info', `porter at ${this.url}`);
  }

  protected async teardown(): Promise<void> {
    mountTable(this.id).address = null;
    await this.porter?.close();
    this.porter = null;
  }
}

export const porterType = defineComponentType({
  type: 'porter',
  description: 'one public HTTP port whose listeners are handed to the streamers that mount their paths',
  properties: porterProperties,
  eaters: [],
  feeders: [],
  listens: tcpOnHostPort,
  gstElements: [],
  create: (name, props) => new PorterComponent(name, props),
});
