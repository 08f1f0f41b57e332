// The base of producers fed by an outside source (an Icecast source client, a pulled stream):
// one source at a time goes through a StreamParser to the `default` feeder. The mood follows
// the source: hungry while none sends, happy from its first buffer, hungry again when it leaves
// (its stream ended, it hung up, it sent what it should not, or it went silent). A source that
// comes back starts a new stream downstream (a fresh stream-start, caps and streamheader).
// What the source says of itself (name, description, genre, bitrate: Icecast's ice-* headers)
// and its title go downstream as tag events, so a streamer at the end of the chain can tell.

import { GdpFrame } from '../../../protocol/gdp';
import { Component } from '../../component/component';
import { IngestFormat } from './formats';
import { StreamParser, tagFrame } from './stream-parser';

export interface SourceSession {
  readonly id: number;
  readonly parser: StreamParser;
  readonly label: string;
  /** Bytes received from the source. */
  bytes: number;
  lastData: number;
  /** Called once when the session is over (drop or end), whatever the cause. */
  onClose: (() => void) | null;
}

/** What a source says of itself (ice-name, ice-description, ice-genre, ice-bitrate). */
export interface SourceInfo {
  name?: string;
  description?: string;
  genre?: string;
  /** kbit/s, as ice-bitrate gives it */
  bitrate?: string;
}

/** How long a source may send bytes that make no buffer (garbage, an endless header) before it is dropped. */
export const FIRST_BUFFER_TIMEOUT_MS = 5000;

export abstract class IngestProducer<P> extends Component<P> {
  private session: SourceSession | null = null;
  private sessions = 0;
  private flowingNow = false;
  private watchdog: NodeJS.Timeout | null = null;
  /** The latest title (metadata update), sent again after each new stream-start. */
  private title: string | null = null;
  /** What the current source says of itself, as tags (sent with the title). */
  private info: Record<string, string | number | undefined> = {};

  /** Seconds of silence after which a connected source is dropped (0: never). */
  protected abstract silenceTimeoutMs(): number;

  get sourceConnected(): boolean {
    return this.session !== null;
  }

  protected override allFeedsFlowing(): boolean {
    return this.flowingNow;
  }

  /** Starts a session for a new source; any previous one must have ended. */
  protected beginSource(format: IngestFormat, label: string): SourceSession {
    if (this.session) this.dropSource('replaced by a new source');
    const parser = new StreamParser(format);
    const s: SourceSession = { id: ++this.sessions, parser, label, bytes: 0, lastData: Date.now(), onClose: null };
    this.session = s;
    let started = false;
    parser.on('frame', (f: GdpFrame) => {
      if (this.session !== s) return;
      this.output('default', f);
      if (!started && f.kind === 'event' && f.text?.startsWith('GstEventSegment') && (this.title || Object.values(this.info).some((v) => v !== undefined))) {
        this.output('default', this.tags());
      }
      if (f.kind === 'buffer' && !started) {
        started = true;
        this.flowingNow = true;
        this.addMessage('info', `source ${label} is sending ${format.name}`);
        if (this.mood === 'hungry') this.setMood('happy');
      }
    });
    parser.on('end', () => this.closeSession(s, 'info', `source ${label} ended its stream`));
    parser.on('failed', (reason) => this.closeSession(s, 'warning', `source ${label} dropped: ${reason}`));
    parser.start();
    this.armWatchdog(s);
    return s;
  }

  /** Source bytes in (the data path); false: pause the source until the parser drains. */
  protected sourceData(s: SourceSession, chunk: Buffer): boolean {
    if (this.session !== s) return true;
    s.bytes += chunk.length;
    s.lastData = Date.now();
    return s.parser.write(chunk);
  }

  /** The source hung up: what it sent is parsed to the end. */
  protected sourceEnded(s: SourceSession): void {
    if (this.session !== s) return;
    s.parser.finish();
    // A parser that never ends (a truncated stream) does not hold the session.
    setTimeout(() => this.closeSession(s, 'info', `source ${s.label} disconnected`), 2000).unref();
  }

  /** Ends the current source's session with a warning (a protocol error, a timeout). */
  protected dropSource(reason: string): void {
    const s = this.session;
    if (s) this.closeSession(s, 'warning', `source ${s.label} dropped: ${reason}`);
  }

  /** A metadata update: a tag event with the title goes downstream now and after each new stream. */
  protected setTitle(title: string): void {
    this.title = title;
    if (this.flowingNow) this.output('default', this.tags());
  }

  /** The next source's description of itself (sent as tags when its stream starts). */
  protected setSourceInfo(info: SourceInfo): void {
    const kbit = Number.parseInt(info.bitrate ?? '', 10);
    this.info = {
      organization: info.name || undefined,
      description: info.description || undefined,
      genre: info.genre || undefined,
      'nominal-bitrate': Number.isFinite(kbit) && kbit > 0 && kbit < 100000 ? kbit * 1000 : undefined,
    };
  }

  /** The tag event of the source's title and description. */
  private tags(): GdpFrame {
    return tagFrame({ ...(this.title !== null ? { title: this.title } : {}), ...this.info });
  }

  private armWatchdog(s: SourceSession): void {
    if (this.watchdog) clearInterval(this.watchdog);
    const started = Date.now();
    this.watchdog = setInterval(() => {
      if (this.session !== s) return;
      const now = Date.now();
      if (s.parser.buffers === 0 && s.bytes > 0 && now - started > FIRST_BUFFER_TIMEOUT_MS) {
        this.dropSource(`no media in its first ${s.bytes} bytes within ${FIRST_BUFFER_TIMEOUT_MS / 1000} s`);
      } else if (this.silenceTimeoutMs() > 0 && now - s.lastData > this.silenceTimeoutMs()) {
        this.dropSource(`silent for ${Math.round((now - s.lastData) / 1000)} s`);
      }
    }, 250);
    this.watchdog.unref();
  }

  private closeSession(s: SourceSession, level: 'info' | 'warning', text: string): void {
    if (this.session !== s) return;
    this.session = null;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    void s.parser.stop();
    this.addMessage(level, text);
    this.flowingNow = false;
    if (this.mood === 'happy') this.setMood('hungry');
    const cb = s.onClose;
    s.onClose = null;
    cb?.();
  }

  protected async stopSource(): Promise<void> {
    const s = this.session;
    this.session = null;
    this.flowingNow = false;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    if (s) {
      await s.parser.stop();
      const cb = s.onClose;
      s.onClose = null;
      cb?.();
    }
  }
}
