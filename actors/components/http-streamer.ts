// The http-streamer consumer: serves the stream it eats (raw container bytes from the GDP
// feed: Ogg, WebM, WAV...) to HTTP listeners through the multi-client sender. Happy while its
// feed flows; listeners stay connected while it is hungry and get data again when it returns.

import * as fs from 'fs';
import { z } from 'zod';
import { GdpFrame } from '../../protocol/gdp';
import { Component } from '../component/component';
import { MultiClientSender } from '../../transport/sender/multi-client-sender';
import { RawPayloadInput } from '../../transport/sender/gdp-inputs';
import { StreamServer, StreamServerOptions, StreamServerStats } from '../../transport/http/stream-server';
import { defineComponentType } from './component-type';

export const httpStreamerProperties = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8800),
    'mount-point': z.string().regex(/^\//, 'must start with /').default('/'),
    'client-limit': z.number().int().nonnegative().default(1000),
    /** bits per second, 0 = none */
    'bandwidth-limit': z.number().int().nonnegative().default(0),
    'redirect-on-overflow': z.string().url().optional(),
    'burst-on-connect': z.boolean().default(true),
    /** KiB */
    'burst-size': z.number().int().positive().default(64),
    /** seconds; takes precedence over burst-size */
    'burst-time': z.number().positive().optional(),
    'token-auth': z.array(z.string().min(1)).nonempty().optional(),
    'basic-auth': z.record(z.string().min(1), z.string()).optional(),
    /** seconds a listener may take to send its request */
    'header-timeout': z.number().positive().default(10),
    /** seconds a listener may accept no data before it is dropped as slow */
    'client-timeout': z.number().positive().default(30),
    /** bytes a listener may lag behind before it is dropped as slow */
    'max-lag-bytes': z.number().int().positive().default(8 * 1024 * 1024),
    /** milliseconds between writes to listeners (batching; 0 = at once) */
    'write-interval': z.number().nonnegative().default(200),
    /** file to append access log lines to (Apache combined + seconds connected) */
    'access-log': z.string().optional(),
  })
  .strict()
  .refine((p) => !(p['token-auth'] && p['basic-auth']), { message: 'token-auth and basic-auth cannot both be set' });
export type HttpStreamerProperties = z.infer<typeof httpStreamerProperties>;

export class HttpStreamer extends Component<HttpStreamerProperties> {
  private sender: MultiClientSender | null = null;
  private input: RawPayloadInput | null = null;
  private server: StreamServer | null = null;
  private log: fs.WriteStream | null = null;

  get url(): string {
    const p = this.properties;
    return `http://${p.host}:${this.server?.port ?? p.port}${p['mount-point']}`;
  }

  stats(): StreamServerStats | null {
    return this.server?.stats() ?? null;
  }

  protected async setup(): Promise<void> {
    const p = this.properties;
    this.sender = new MultiClientSender({
      unitFormat: 'bytes',
      unitsMax: p['max-lag-bytes'],
      timeoutMs: p['client-timeout'] * 1000,
      writeIntervalMs: p['write-interval'],
    });
    this.input = new RawPayloadInput(this.sender);
    if (p['access-log']) this.log = fs.createWriteStream(p['access-log'], { flags: 'a' });
    const auth: StreamServerOptions['auth'] = p['token-auth']
      ? { type: 'token', tokens: p['token-auth'] }
      : p['basic-auth']
        ? { type: 'basic', users: p['basic-auth'] }
        : undefined;
    this.server = new StreamServer(this.sender, {
      host: p.host,
      port: p.port,
      mountPoint: p['mount-point'],
      clientLimit: p['client-limit'],
      bandwidthLimit: p['bandwidth-limit'],
      redirectOnOverflow: p['redirect-on-overflow'],
      burstOnConnect: p['burst-on-connect'],
      burstSize: p['burst-size'],
      burstTime: p['burst-time'],
      auth,
      headerTimeoutMs: p['header-timeout'] * 1000,
      accessLog: this.log ? (line) => this.log?.write(line + '\n') : undefined,
    });
    const server = this.server;
    this.input.onCaps((caps) => server.setCaps(caps));
    await server.listen();
    this.addMessage('info', `streaming at ${this.url}`);
  }

  protected async teardown(): Promise<void> {
    await this.server?.close();
    this.sender?.close();
    await new Promise<void>((resolve) => (this.log ? this.log.end(() => resolve()) : resolve()));
    this.server = null;
    this.sender = null;
    this.input = null;
    this.log = null;
  }

  protected override onFrame(_eater: string, _feedId: string, frame: GdpFrame): void {
    this.input?.frame(frame);
  }
}

export const httpStreamerType = defineComponentType({
  type: 'http-streamer',
  description: 'serves the stream it eats to HTTP listeners',
  properties: httpStreamerProperties,
  eaters: ['default'],
  feeders: [],
  create: (name, props) => new HttpStreamer(name, props),
});
