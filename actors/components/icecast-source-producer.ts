// icecast-source-producer: Icecast-compatible ingest. DJ encoders (BUTT, Mixxx, liquidsoap,
// ffmpeg's icecast://) send to `port` and `mount-point` as they would to Icecast; the stream
// (Ogg Vorbis/Opus/FLAC, MP3, AAC, WebM) is cut into buffers with sync points and caps and goes
// out of the `default` feeder. Hungry while no source sends; happy while one does; a source
// that returns starts a new stream downstream. Metadata updates become title tag events.

import * as fs from 'fs';
import * as net from 'net';
import { z } from 'zod';
import { ComponentDetails, PermanentError } from '../component/component';
import { SourceMetadata, SourceServer } from '../../transport/http/source-server';
import { defineComponentType, tcpOnHostPort } from './component-type';
import { ingestFormat, sniffFormat } from './ingest/formats';
import { IngestProducer, SourceSession } from './ingest/ingest-producer';
import { PARSER_ELEMENTS } from './ingest/stream-parser';

export const icecastSourceProperties = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8000),
    'mount-point': z.string().regex(/^\/[^\s?#]*$/, 'must start with / (no spaces, ? or #)').default('/live'),
    /** the source password (user `source`), or password-file */
    password: z.string().min(1).optional(),
    'password-file': z.string().min(1).optional(),
    /** seconds a source may send nothing before it is dropped (the component turns hungry) */
    'source-timeout': z.number().positive().default(10),
    /** seconds a client may take to send its request head */
    'header-timeout': z.number().positive().default(10),
  })
  .strict()
  .refine((p) => !!p.password !== !!p['password-file'], { message: 'set one of password or password-file' });
export type IcecastSourceProperties = z.infer<typeof icecastSourceProperties>;

interface Connected {
  /** Made on the first bytes (their magic may correct the declared type). */
  session: SourceSession | null;
  socket: net.Socket;
  meta: SourceMetadata;
  address: string;
  since: number;
}

export class IcecastSourceProducer extends IngestProducer<IcecastSourceProperties> {
  private server: SourceServer | null = null;
  private source: Connected | null = null;
  private currentTitle: string | undefined;
  private lastRefusal = 0;

  protected silenceTimeoutMs(): number {
    return this.properties['source-timeout'] * 1000;
  }

  protected async setup(): Promise<void> {
    const p = this.properties;
    let password = p.password ?? '';
    if (p['password-file']) {
      try {
        password = fs.readFileSync(p['password-file'], 'utf8').trim();
      } catch (e) {
        throw new PermanentError(`cannot read password-file ${p['password-file']}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      if (!password) throw new PermanentError(`password-file ${p['password-file']} is empty`);
    }
    const server = new SourceServer({
      host: p.host,
      port: p.port,
      mount: p['mount-point'],
      password,
      headerTimeoutMs: p['header-timeout'] * 1000,
      accepts: (ct) => ingestFormat(ct) !== null,
      busy: () => this.source !== null,
      onSource: (socket, meta, rest, address) => this.accept(socket, meta, rest, address),
      onMetadata: (title) => {
        if (!this.source) return false;
        this.currentTitle = title;
        this.setTitle(title);
        this.addMessage('info', `title: ${title}`);
        return true;
      },
      onRefused: (address, status, reason) => {
        // One message per second at most: a password guesser does not flood the messages.
        if (Date.now() - this.lastRefusal < 1000) return;
        this.lastRefusal = Date.now();
        this.addMessage('warning', `refused ${address}: ${status} ${reason}`);
      },
    });
    await server.listen();
    this.server = server;
    this.addMessage('info', `waiting for a source at http://${p.host}:${server.port}${p['mount-point']}`);
  }

  protected async teardown(): Promise<void> {
    const src = this.source;
    this.source = null;
    src?.socket.destroy();
    await this.stopSource();
    await this.server?.close();
    this.server = null;
  }

  get port(): number {
    return this.server?.port ?? 0;
  }

  /** A source holds the mount (from its accepted head on, before its first byte too). */
  override get sourceConnected(): boolean {
    return this.source !== null;
  }

  override details(): ComponentDetails {
    const s = this.source;
    const p = this.properties;
    return {
      url: `http://${p.host}:${this.port}${p['mount-point']}`,
      source: s
        ? {
            connected: true, address: s.address, contentType: s.meta.contentType, name: s.meta.name, description: s.meta.description,
            genre: s.meta.genre, bitrate: s.meta.bitrate, title: this.currentTitle, bytesIn: s.session?.bytes ?? 0, since: s.since,
          }
        : { connected: false },
    };
  }

  private accept(socket: net.Socket, meta: SourceMetadata, rest: Buffer, address: string): void {
    const format = ingestFormat(meta.contentType);
    if (!format) {
      socket.destroy();
      return;
    }
    const label = `${address}${meta.agent ? ` (${meta.agent})` : ''}`;
    const src: Connected = { session: null, socket, meta, address, since: Date.now() };
    this.source = src;
    this.currentTitle = undefined;
    const begin = (first: Buffer): SourceSession => {
      const actual = sniffFormat(format, first);
      if (actual !== format) this.addMessage('info', `source ${label} says ${meta.contentType} but sends ${actual.name}: taken as ${actual.name}`);
      this.setSourceInfo(meta);
      const session = this.beginSource(actual, label);
      src.session = session;
      session.onClose = () => {
        if (this.source === src) this.source = null;
        socket.destroy();
      };
      return session;
    };
    const take = (chunk: Buffer) => {
      if (this.source !== src) return;
      const session = src.session ?? begin(chunk);
      if (!this.sourceData(session, chunk)) {
        socket.pause();
        session.parser.onDrain(() => socket.resume());
      }
    };
    const gone = () => {
      if (src.session) this.sourceEnded(src.session);
      else if (this.source === src) this.source = null; // it left before sending a byte
    };
    // A source that sends nothing at all does not hold the mount.
    const silent = setTimeout(() => {
      if (src.session || this.source !== src) return;
      this.source = null;
      socket.destroy();
      this.addMessage('warning', `source ${label} dropped: it sent nothing for ${this.properties['source-timeout']} s`);
    }, this.properties['source-timeout'] * 1000);
    silent.unref();
    socket.once('close', () => clearTimeout(silent));
    if (rest.length) take(rest);
    socket.on('data', take);
    socket.on('end', gone);
    socket.on('close', gone);
    socket.resume();
  }
}

export const icecastSourceProducerType = defineComponentType({
  type: 'icecast-source-producer',
  description: 'Icecast-compatible ingest: source clients send Ogg, MP3, AAC or WebM to a mount',
  properties: icecastSourceProperties,
  eaters: [],
  feeders: ['default'],
  listens: tcpOnHostPort,
  gstElements: PARSER_ELEMENTS,
  create: (name, props) => new IcecastSourceProducer(name, props),
});
