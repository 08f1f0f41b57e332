// The http-streamer consumer: serves the stream it eats (raw container bytes from the GDP
// feed: Ogg, WebM, WAV...) to HTTP listeners through the multi-client sender. Happy while its
// feed flows; listeners stay connected while it is hungry and get data again when it returns.
// It answers for its mount: listeners (list, kick), audience (peak, listener-seconds), titles,
// and the mount's public Icecast status (stream-info.ts keeps what the stream's tags say). Its
// fallback mount and intro file are in streamer-station.ts.

import * as fs from 'fs';
import { z } from 'zod';
import { GdpFrame } from '../../protocol/gdp';
import { GstCaps } from '../../protocol/gst/caps';
import { Component, ComponentDetails, ListenerControl, PermanentError } from '../component/component';
import { MultiClientSender } from '../../transport/sender/multi-client-sender';
import { RawPayloadInput } from '../../transport/sender/gdp-inputs';
import { STREAM_SERVER_DEFAULTS, StreamServer, StreamServerOptions, StreamServerStats } from '../../transport/http/stream-server';
import { MountOwner, MountTable, mountTable } from '../../transport/http/porter';
import { PoolStats, SenderPool } from '../../transport/http/sender-pool';
import { COMPONENT_FLAGS } from '../supervision';
import { defineComponentType, tcpOnHostPort } from './component-type';
import { ServedAt, listenerUrls, publicUrlSchema } from '../../protocol/listener-urls';
import { EVENT_TYPES } from '../../protocol/gst/event-types';
import { IcyInput } from '../../transport/sender/icy-input';
import { IcestatsSource } from '../../transport/http/icestats';
import { contentTypeForCaps } from '../../protocol/media-types';
import { StreamInfo } from './stream-info';
import { StreamerStation, stationProperties } from './streamer-station';

export { streamTitle } from './stream-info';

export const httpStreamerProperties = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8800),
    'mount-point': z.string().regex(/^\//, 'must start with /').default('/'),
    'client-limit': z.number().int().nonnegative().default(10000),
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
    /**
     * Adaptive batching: listeners are written to once `write-threshold` KiB gathered since the
     * last write, or `write-interval` ms after it, whichever comes first (0 = write at once).
     * The interval bounds the latency batching adds.
     */
    'write-interval': z.number().nonnegative().max(10000).default(1000),
    'write-threshold': z.number().int().nonnegative().default(64),
    /** seconds a listener may wait for the stream to start (its caps) before a 503 */
    'caps-timeout': z.number().positive().default(10),
    /** file to append access log lines to (Apache combined + seconds connected) */
    'access-log': z.string().optional(),
    /** serve through this porter (a porter component of the same flow, on the same worker) instead of an own port */
    porter: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/).optional(),
    /** sender processes: listeners are spread over this many child processes, fed from the one feed */
    processes: z.number().int().min(1).max(64).default(1),
    /** Access-Control-Allow-Origin for browsers' players on other sites ('' = none) */
    'cors-origin': z.string().regex(/^(\*|https?:\/\/[^\s,]+|)$/, "must be *, an origin such as https://example.org, or ''").default('*'),
    /** ICY metadata for MP3 and AAC listeners that send Icy-MetaData: 1: bytes between titles (0 = off) */
    'icy-metaint': z.number().int().min(0).max(1048576).default(16000),
    /** HTTPS: certificate and key files (reloaded when they change, or on SIGHUP) */
    'tls-cert-file': z.string().min(1).optional(),
    'tls-key-file': z.string().min(1).optional(),
    /**
     * The stream's URL as listeners reach it (a reverse proxy, NAT, a name): shown first wherever
     * URLs are (status, `up`, the API). Behind a porter it is still this streamer's own URL.
     */
    'public-url': publicUrlSchema.optional(),
    /** the stream's name, description and genre in /status-json.xsl (else what the stream's tags say) */
    'stream-name': z.string().min(1).max(1024).optional(),
    'stream-description': z.string().min(1).max(1024).optional(),
    'stream-genre': z.string().min(1).max(1024).optional(),
    /** show this mount in Icecast's public /status-json.xsl (here and on its porter) */
    'public-status': z.boolean().default(true),
    ...stationProperties,
  })
  .strict()
  .refine((p) => !p['tls-cert-file'] === !p['tls-key-file'], { message: 'tls-cert-file and tls-key-file go together' })
  .refine((p) => !(p['tls-cert-file'] && p.processes > 1), { message: 'HTTPS needs processes: 1 (a TLS session cannot move to another process)' })
  .refine((p) => !(p['token-auth'] && p['basic-auth']), { message: 'token-auth and basic-auth cannot both be set' })
  .refine((p) => !(p['fallback-mount'] && p.processes > 1), { message: 'fallback-mount needs processes: 1 (a listener cannot move between sender processes)', path: ['fallback-mount'] })
  .refine((p) => p['fallback-mount'] !== p['mount-point'], { message: 'fallback-mount must be another mount than mount-point (a streamer cannot be its own fallback)', path: ['fallback-mount'] });
export type HttpStreamerProperties = z.infer<typeof httpStreamerProperties>;

export interface HttpStreamerStats extends StreamServerStats {
  /** With processes > 1: each sender process's pid, listeners and restarts. */
  processes?: PoolStats['processes'];
}

export class HttpStreamer extends Component<HttpStreamerProperties> {
  private sender: MultiClientSender | null = null;
  private input: RawPayloadInput | null = null;
  private server: StreamServer | null = null;
  private pool: SenderPool | null = null;
  private capsValue: GstCaps | null = null;
  private mount: { table: MountTable; owner: MountOwner } | null = null;
  private log: fs.WriteStream | null = null;
  private senderLimits: ConstructorParameters<typeof MultiClientSender>[0] | null = null;
  /** Listeners that left, by reason (one process; the sender pool counts its own). */
  private readonly removed: Record<string, number> = {};
  /** What the stream's tags say: titles, name, genre, bitrate. */
  readonly info = new StreamInfo();
  private station: StreamerStation | null = null;

  /** The porter's mount table this streamer joins (`porter` names a porter of its flow). */
  private porterTable(): MountTable | null {
    const name = this.properties.porter;
    return name ? mountTable(`/${this.flow}/${name}`) : null;
  }

  /** The port its own server is bound to, once it is (never behind a porter). */
  private boundPort: number | null = null;

  /** Where listeners are served: its own socket once bound, or its porter's while it listens and the mount is ours. */
  get servedAt(): ServedAt | null {
    const p = this.properties;
    if (p.porter) return this.mount ? this.mount.table.address : null;
    return this.boundPort === null ? null : { scheme: p['tls-cert-file'] ? 'https' : 'http', host: p.host, port: this.boundPort };
  }

  /** Every URL a listener can use, the primary first (see protocol/listener-urls.ts); none while served nowhere. */
  get urls(): string[] {
    return listenerUrls({ at: this.servedAt, path: this.properties['mount-point'], publicUrl: this.properties['public-url'], advertiseHost: this.advertiseHost });
  }

  /** The primary URL; before it is served, where it will be as configured (status shows `urls` only). */
  get url(): string {
    const p = this.properties;
    if (this.urls.length) return this.urls[0];
    if (p.porter) return `(porter ${p.porter})${p['mount-point']}`;
    return listenerUrls({ at: { scheme: p['tls-cert-file'] ? 'https' : 'http', host: p.host, port: p.port }, path: p['mount-point'], publicUrl: p['public-url'], advertiseHost: this.advertiseHost })[0];
  }

  /** The stream's caps once they arrived (its streamheaders among them). */
  get caps(): GstCaps | null {
    return this.capsValue;
  }

  /** The pids of the sender processes (processes > 1). */
  senderPids(): number[] {
    return this.pool?.pids() ?? [];
  }

  stats(): HttpStreamerStats | null {
    const st = this.server?.stats();
    if (!st) return null;
    const pool = this.pool?.stats();
    if (!pool || !this.pool) return st;
    const a = this.pool.audience();
    return { ...st, currentClients: pool.clients, peakClients: a.peak, peakTime: a.peakTime, listenerSeconds: a.listenerSeconds, bytesServed: pool.bytesServed, bitrateOut: pool.bitrateOut, refused: { ...st.refused }, processes: pool.processes };
  }

  override details(): ComponentDetails {
    const st = this.stats();
    const removed = this.pool ? this.pool.stats().removed : { ...this.removed };
    const urls = this.urls;
    return {
      urls,
      url: urls[0],
      mount: this.properties['mount-point'],
      clients: st?.currentClients ?? 0,
      bitrateOut: Math.round(st?.bitrateOut ?? 0),
      bytesServed: st?.bytesServed ?? 0,
      removed,
      peakClients: st?.peakClients ?? 0,
      ...(st?.peakTime ? { peakTime: st.peakTime } : {}),
      listenerSeconds: Math.round((st?.listenerSeconds ?? 0) * 1000) / 1000,
      titles: this.info.titles.map((t) => ({ ...t })),
      ...this.station?.details(this.pool?.stats().introPlays),
    };
  }

  override listenerControl(): ListenerControl | null {
    return {
      list: async () => {
        if (this.pool) return this.pool.listListeners();
        return this.server ? this.server.listListeners() : { listeners: [], total: 0 };
      },
      kick: async (id) => {
        const ok = this.pool ? await this.pool.kick(id) : (this.server?.kick(id) ?? false);
        if (ok) this.addMessage('info', `listener ${id} removed by an operator`);
        return ok;
      },
    };
  }

  /** This mount in Icecast's public /status-json.xsl (whatever public-status says); null before the stream starts. */
  publicStatus(): IcestatsSource | null {
    const p = this.properties;
    const st = this.stats();
    const start = this.info.streamStart;
    if (!st || start === null || !this.capsValue) return null;
    const bitrate = this.info.bitrate ?? this.capsValue.first?.getNumber('bitrate') ?? st.bitrateIn;
    return {
      mount: p['mount-point'],
      listenurl: this.url,
      listeners: st.currentClients,
      listenerPeak: st.peakClients,
      name: p['stream-name'] ?? this.info.name,
      description: p['stream-description'] ?? this.info.description,
      genre: p['stream-genre'] ?? this.info.genre,
      type: contentTypeForCaps(this.capsValue),
      bitrate: bitrate > 0 ? Math.round(bitrate / 1000) : undefined,
      title: this.info.title || undefined,
      streamStart: start,
    };
  }

  protected async setup(): Promise<void> {
    const p = this.properties;
    const station = new StreamerStation({ id: `/${this.flow}/${this.name}`, flow: this.flow, props: p, message: (level, text) => this.addMessage(level, text) });
    this.station = station;
    await station.load(() => this.pool?.reloadIntro());
    const senderLimits = {
      unitFormat: 'bytes' as const,
      unitsMax: p['max-lag-bytes'],
      timeoutMs: p['client-timeout'] * 1000,
      writeIntervalMs: p['write-interval'],
      writeThresholdBytes: p['write-threshold'] * 1024,
    };
    this.senderLimits = senderLimits;
    // With one process the sender lives here; with more, here is only the front (admission).
    this.sender = new MultiClientSender(p.processes > 1 ? {} : senderLimits);
    this.sender.on('client-removed', (id, reason) => {
      if (id >= 0) this.removed[reason] = (this.removed[reason] ?? 0) + 1;
    });
    if (p.processes === 1) {
      this.input = new RawPayloadInput(this.sender);
      this.input.onCaps((caps) => this.server?.setCaps(caps));
    }
    if (p['access-log']) this.log = fs.createWriteStream(p['access-log'], { flags: 'a' });
    // Moved listeners may end on another streamer after this one's log was closed: never write after its end.
    const accessLog = this.log ? (line: string) => void (this.log?.writableEnded === false && this.log.write(line + '\n')) : undefined;
    const auth: StreamServerOptions['auth'] = p['token-auth']
      ? { type: 'token', tokens: p['token-auth'] }
      : p['basic-auth']
        ? { type: 'basic', users: p['basic-auth'] }
        : undefined;
    const serverOptions = {
      mountPoint: p['mount-point'],
      burstOnConnect: p['burst-on-connect'],
      burstSize: p['burst-size'],
      burstTime: p['burst-time'],
      capsTimeoutMs: p['caps-timeout'] * 1000,
      maxHeaderBytes: STREAM_SERVER_DEFAULTS.maxHeaderBytes,
      maxUrlLength: STREAM_SERVER_DEFAULTS.maxUrlLength,
      maxWaiting: STREAM_SERVER_DEFAULTS.maxWaiting,
      corsOrigin: p['cors-origin'],
    };
    if (p.processes > 1) {
      const pool = new SenderPool({
        processes: p.processes,
        child: { sender: senderLimits, server: serverOptions, accessLog: !!accessLog, introFile: p['intro-file'] },
        burst: p['burst-on-connect'] ? (p['burst-time'] !== undefined ? { format: 'time', value: p['burst-time'] * 1000 } : { format: 'bytes', value: p['burst-size'] * 1024 }) : undefined,
        accessLog,
        log: (line) => this.addMessage('warning', line),
      });
      this.pool = pool;
      // Each sender process is a supervised task: restarted with the component's backoff; past
      // its intensity the task's supervisor gives up, and with it the streamer (the core crashes).
      for (let i = 0; i < pool.processes; i++) {
        this.startTask({
          id: `sender ${i}`,
          flags: COMPONENT_FLAGS,
          run: (t) => {
            const stop = pool.runSlot(i, (why) => {
              this.addMessage('warning', `${why}: restarting it`);
              t.fail(new Error(why));
            });
            t.defer(stop);
          },
        });
      }
    }
    const pool = this.pool;
    this.server = new StreamServer(this.sender, {
      ...serverOptions,
      host: p.host,
      port: p.port,
      listen: !p.porter,
      clientLimit: p['client-limit'],
      bandwidthLimit: p['bandwidth-limit'],
      redirectOnOverflow: p['redirect-on-overflow'],
      auth,
      headerTimeoutMs: p['header-timeout'] * 1000,
      accessLog,
      handOff: pool ? (socket, head, since) => pool.handOff(socket, head, since) : undefined,
      tls: p['tls-cert-file'] && p['tls-key-file'] ? { certFile: p['tls-cert-file'], keyFile: p['tls-key-file'], log: (l) => this.addMessage('info', l) } : undefined,
      externalClients: pool ? () => pool.clients : undefined,
      publicStatus: p['public-status'] ? () => this.publicStatus() : undefined,
      ...station.serverOptions(() => this.info.title ?? ''),
    });
    const server = this.server;
    station.attach(server, this.sender);
    const port = await server.listen();
    if (!p.porter) this.boundPort = port;
    const table = this.porterTable();
    if (table) {
      const owner: MountOwner = { owner: `/${this.flow}/${this.name}`, acceptHanded: (socket, raw) => server.acceptHanded(socket, raw), publicStatus: p['public-status'] ? () => this.publicStatus() : undefined };
      if (!table.add(p['mount-point'], owner)) throw new PermanentError(`porter ${p.porter} already has a streamer at ${p['mount-point']}`);
      this.mount = { table, owner };
    }
    this.addMessage('info', `streaming at ${this.urls.join(' and ') || this.url}${p.processes > 1 ? ` with ${p.processes} sender processes` : ''}`);
  }

  protected async teardown(): Promise<void> {
    this.station?.close();
    this.station = null;
    if (this.mount) this.mount.table.remove(this.properties['mount-point'], this.mount.owner);
    this.mount = null;
    this.boundPort = null;
    // Sender processes first: a server that handed sockets to them waits for their word on close.
    await this.pool?.close();
    await this.server?.close();
    this.sender?.close();
    this.icySender?.close();
    this.icySender = null;
    this.icy = null;
    await new Promise<void>((resolve) => (this.log ? this.log.end(() => resolve()) : resolve()));
    this.server = null;
    this.pool = null;
    this.sender = null;
    this.input = null;
    this.log = null;
  }

  protected override onFrame(_eater: string, _feedId: string, frame: GdpFrame): void {
    let title: string | null = null;
    if (frame.kind === 'caps') {
      this.capsValue = GstCaps.parse(frame.text ?? '');
      this.station?.caps(this.capsValue);
      this.info.caps();
      if (this.capsValue.mediaType === 'audio/mpeg') this.startIcy();
    } else if (frame.kind === 'event' && frame.eventType === EVENT_TYPES['stream-start']) {
      this.info.streamStarted(frame.text);
    } else if (frame.kind === 'event' && frame.eventType === EVENT_TYPES.tag) {
      title = this.info.tag(frame.text);
    }
    this.station?.beforeFrame(frame);
    if (this.pool) this.pool.frame(frame);
    else this.input?.frame(frame);
    this.station?.afterFrame(frame);
    const icy = this.icy;
    if (!icy) return;
    if (frame.kind === 'buffer') icy.data(frame.payload, frame.ptsMs);
    else if (title !== null) icy.setTitle(title);
  }

  private icy: IcyInput | null = null;
  private icySender: MultiClientSender | null = null;

  /** MP3 or AAC with one sender process: listeners may ask for ICY metadata. */
  private startIcy(): void {
    const metaint = this.properties['icy-metaint'];
    if (this.icy || !metaint || this.pool || !this.server || !this.sender) return;
    this.icySender = new MultiClientSender(this.senderLimits ?? {});
    this.icySender.on('client-removed', (_id, reason) => (this.removed[reason] = (this.removed[reason] ?? 0) + 1));
    const icy = new IcyInput(this.icySender, metaint);
    this.icy = icy;
    this.server.setIcy(this.icySender, metaint, () => icy.position);
  }

  /** Its feed stopped (hungry): its listeners may go to its fallback mount. */
  protected override onFeedDisconnected(eater: string, feedId: string): void {
    super.onFeedDisconnected(eater, feedId);
    this.station?.streamStopped();
  }
}

export const httpStreamerType = defineComponentType({
  type: 'http-streamer',
  description: 'serves the stream it eats to HTTP listeners',
  properties: httpStreamerProperties,
  eaters: ['default'],
  feeders: [],
  listens: (p) => (p.porter ? [] : tcpOnHostPort(p)),
  gstElements: [],
  listeners: true,
  create: (name, props) => new HttpStreamer(name, props),
});
