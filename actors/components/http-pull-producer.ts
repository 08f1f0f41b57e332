// http-pull-producer: relays a stream pulled from a URL (another fluxcast, an Icecast, any HTTP
// stream of Ogg, MP3, AAC or WebM). The bytes are cut into buffers with sync points and caps
// from the response's Content-Type (or `content-type`, to override a server that lies). Hungry
// while disconnected; it reconnects under supervision (a task: jittered backoff, forever, until
// stopped); redirects are followed (at most 5); a response that is not 200 or a type it cannot
// parse is retried too.

import * as http from 'http';
import * as https from 'https';
import { z } from 'zod';
import { ComponentDetails } from '../component/component';
import { TaskRun } from '../component/component-tasks';
import { defineComponentType } from './component-type';
import { IngestFormat, ingestFormat, sniffFormat } from './ingest/formats';
import { IngestProducer, SourceSession } from './ingest/ingest-producer';
import { PARSER_ELEMENTS } from './ingest/stream-parser';

export const httpPullProperties = z
  .object({
    url: z.string().url().refine((u) => /^https?:\/\//.test(u), { message: 'must be an http:// or https:// URL' }),
    /** overrides the response's Content-Type */
    'content-type': z.string().min(1).optional(),
    /** seconds without data after which the connection is dropped and made again */
    timeout: z.number().positive().default(10),
    /** seconds the server may take to answer */
    'connect-timeout': z.number().positive().default(5),
    /** milliseconds: the longest wait between attempts */
    'max-backoff': z.number().int().min(100).max(60000).default(2000),
  })
  .strict();
export type HttpPullProperties = z.infer<typeof httpPullProperties>;

const MAX_REDIRECTS = 5;

export class HttpPullProducer extends IngestProducer<HttpPullProperties> {
  private request: http.ClientRequest | null = null;
  /** The current attempt (a task run): a failure ends it, and the task's supervisor dials again after its backoff. */
  private run: TaskRun | null = null;
  private current: { session: SourceSession; contentType: string; since: number; url: string } | null = null;
  private lastFailure: string | null = null;
  attempts = 0;

  protected silenceTimeoutMs(): number {
    return this.properties.timeout * 1000;
  }

  protected async setup(): Promise<void> {
    this.addMessage('info', `pulling ${redact(this.properties.url)}`);
    // Each attempt is one run of a supervised task: forever, jittered backoff from 100 ms up to
    // max-backoff, starting over after a run that lasted (the stream flowed).
    this.startTask({
      id: 'pull',
      flags: { intensity: Infinity, periodMs: 60000, backoff: { initialMs: 100, maxMs: this.properties['max-backoff'], factor: 2, jitter: 0.5 }, resetAfterMs: 1000, logCrashes: false },
      run: (t) => {
        this.run = t;
        t.defer(() => {
          if (this.run === t) this.run = null;
          this.request?.destroy();
          this.request = null;
        });
        this.connect(this.properties.url, 0);
      },
    });
  }

  protected async teardown(): Promise<void> {
    this.request?.destroy();
    this.request = null;
    this.current = null;
    await this.stopSource();
  }

  override details(): ComponentDetails {
    const c = this.current;
    return {
      source: c
        ? { connected: true, url: redact(c.url), contentType: c.contentType, bytesIn: c.session.bytes, since: c.since }
        : { connected: false, url: redact(this.properties.url) },
    };
  }

  private failed(reason: string): void {
    this.request = null;
    const run = this.run;
    if (!run?.alive()) return;
    // Said once per reason, not once per retry.
    if (reason !== this.lastFailure) this.addMessage('warning', `${redact(this.properties.url)}: ${reason}; retrying`);
    this.lastFailure = reason;
    run.fail(new Error(reason));
  }

  private connect(url: string, redirects: number): void {
    this.attempts++;
    const get = url.startsWith('https:') ? https.get : http.get;
    let req: http.ClientRequest;
    try {
      req = get(url, { agent: false, headers: { 'User-Agent': 'fluxcast-http-pull/0.1', 'Icy-MetaData': '0' }, timeout: this.properties['connect-timeout'] * 1000 });
    } catch (e) {
      this.failed((e as Error).message);
      return;
    }
    this.request = req;
    req.on('timeout', () => req.destroy(new Error('no answer in time')));
    req.on('error', (e) => {
      if (this.request === req) this.failed((e as NodeJS.ErrnoException).code ?? e.message);
    });
    req.on('response', (res) => {
      if (this.request !== req) return res.destroy();
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirects < MAX_REDIRECTS) {
        res.destroy();
        this.request = null;
        this.connect(new URL(res.headers.location, url).toString(), redirects + 1);
        return;
      }
      if (status !== 200) {
        res.destroy();
        return this.failed(`HTTP ${status}`);
      }
      const contentType = this.properties['content-type'] ?? res.headers['content-type'] ?? '';
      const format = ingestFormat(contentType);
      if (!format) {
        res.destroy();
        return this.failed(`unsupported content type ${contentType || '(none)'}`);
      }
      this.pull(req, res, format, contentType, url);
    });
  }

  private pull(req: http.ClientRequest, res: http.IncomingMessage, format: IngestFormat, contentType: string, url: string): void {
    req.setTimeout(0);
    let session: SourceSession | null = null;
    let flowing = false;
    const begin = (first: Buffer): SourceSession => {
      const actual = sniffFormat(format, first);
      if (actual !== format) this.addMessage('info', `${redact(url)} says ${contentType} but sends ${actual.name}: taken as ${actual.name}`);
      const h = (name: string) => {
        const v = res.headers[name];
        return typeof v === 'string' ? v.slice(0, 1024) : undefined;
      };
      this.setSourceInfo({ name: h('icy-name') ?? h('ice-name'), description: h('icy-description') ?? h('ice-description'), genre: h('icy-genre') ?? h('ice-genre'), bitrate: h('icy-br') ?? h('ice-bitrate') });
      const s = this.beginSource(actual, redact(url));
      this.current = { session: s, contentType, since: Date.now(), url };
      s.onClose = () => {
        if (this.current?.session === s) this.current = null;
        res.destroy();
        if (this.request === req) this.failed(flowing ? 'the stream ended' : 'no stream in the response');
      };
      return s;
    };
    const ended = () => {
      if (session) this.sourceEnded(session);
      else if (this.request === req) {
        res.destroy();
        this.failed('the response ended before any byte');
      }
    };
    res.on('data', (chunk: Buffer) => {
      session ??= begin(chunk);
      if (!flowing && session.parser.buffers > 0) {
        flowing = true;
        this.lastFailure = null;
      }
      if (!this.sourceData(session, chunk)) {
        res.pause();
        session.parser.onDrain(() => res.resume());
      }
    });
    res.on('end', ended);
    res.on('close', ended);
    res.on('error', () => undefined);
  }
}

/** The URL without its credentials, for messages and status. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

export const httpPullProducerType = defineComponentType({
  type: 'http-pull-producer',
  description: 'relays a stream pulled from an HTTP URL (Ogg, MP3, AAC, WebM), reconnecting forever',
  properties: httpPullProperties,
  eaters: [],
  feeders: ['default'],
  gstElements: PARSER_ELEMENTS,
  create: (name, props) => new HttpPullProducer(name, props),
});
