// An http-streamer's station features beside its stream: the fallback mount its listeners move
// to while its stream is away (transport/http/fallback.ts) and the intro file new listeners get
// first (transport/http/intro.ts). Its properties, their run-time wiring into the stream server,
// and what status shows of them. The streamer calls in at setup, for each frame, when its feed
// stops, and at teardown; nothing here touches media bytes beyond reading the intro file.

import { z } from 'zod';
import { BUFFER_FLAG, GdpFrame } from '../../protocol/gdp';
import { FluxError } from '../../protocol/errors';
import { GstCaps } from '../../protocol/gst/caps';
import { MultiClientSender } from '../../transport/sender/multi-client-sender';
import { StreamServer, StreamServerOptions } from '../../transport/http/stream-server';
import { FallbackDetails, MountFallback, fallbackScope } from '../../transport/http/fallback';
import { Intro, IntroDetails } from '../../transport/http/intro';
import { PermanentError } from '../component/component';

/** The properties (merged into the http-streamer's schema). */
export const stationProperties = {
  /** the mount of another http-streamer of this worker (or of the same porter) that takes the listeners while the stream is away */
  'fallback-mount': z.string().regex(/^\/\S*$/, 'must be a mount point: start with / and have no spaces').max(1024).optional(),
  /** bring the listeners back from the fallback when the stream returns */
  'fallback-override': z.boolean().default(true),
  /** a file (Ogg, MP3 or AAC, as the stream) played to each new listener before the live stream */
  'intro-file': z.string().min(1).max(4096).optional(),
};

export interface StationProps {
  'mount-point': string;
  porter?: string;
  processes: number;
  'fallback-mount'?: string;
  'fallback-override': boolean;
  'intro-file'?: string;
}

export interface StationDetails {
  fallback?: FallbackDetails;
  intro?: IntroDetails;
}

export class StreamerStation {
  private intro: Intro | null = null;
  private fallback: MountFallback | null = null;

  constructor(
    private readonly c: {
      id: string;
      flow: string;
      props: StationProps;
      message(level: 'info' | 'warning', text: string): void;
    },
  ) {}

  /**
   * Reads the intro file (a file that cannot be used makes the streamer sad, with its code) and
   * reads it again on SIGHUP, telling `onReload` (its sender processes read it themselves).
   */
  async load(onReload?: () => void): Promise<void> {
    const file = this.c.props['intro-file'];
    if (!file) return;
    const intro = new Intro(file, (level, text) => this.c.message(level, text));
    try {
      await intro.load();
    } catch (e) {
      throw new PermanentError(`${(e as FluxError).code}: ${(e as Error).message}`);
    }
    intro.watch(onReload);
    this.intro = intro;
  }

  /** What its stream server is given: the intro, where new listeners go while on the fallback, whose they are. */
  serverOptions(title: () => string): Partial<StreamServerOptions> {
    const p = this.c.props;
    const intro = this.intro;
    return {
      home: `${fallbackScope(this.porterId())} ${p['mount-point']}`,
      title,
      intro: intro
        ? (caps) => {
            const bytes = intro.for(caps);
            if (bytes) intro.played();
            return bytes;
          }
        : undefined,
      divert: p.processes === 1 ? () => this.fallback?.divert() ?? null : undefined,
    };
  }

  private porterId(): string | undefined {
    return this.c.props.porter ? `/${this.c.flow}/${this.c.props.porter}` : undefined;
  }

  /** With one process, the streamer joins its worker's fallback directory (as a fallback of others, and with its own). */
  attach(server: StreamServer, sender: MultiClientSender): void {
    const p = this.c.props;
    if (p.processes !== 1) return;
    this.fallback = new MountFallback({
      id: this.c.id,
      scope: fallbackScope(this.porterId()),
      mount: p['mount-point'],
      server,
      fallbackMount: p['fallback-mount'],
      override: p['fallback-override'],
      nextSeq: () => sender.queue.nextSeq,
      message: this.c.message,
    });
    this.fallback.start();
  }

  /** Around each frame the streamer queues: where a returning stream begins, and when it is live again. */
  beforeFrame(f: GdpFrame): void {
    if (f.kind === 'buffer') this.fallback?.beforeBuffer();
  }

  afterFrame(f: GdpFrame): void {
    if (f.kind === 'buffer') this.fallback?.afterBuffer((f.bufferFlags & BUFFER_FLAG.DELTA_UNIT) === 0 && (f.bufferFlags & BUFFER_FLAG.HEADER) === 0);
  }

  /** Its feed stopped (it is hungry). */
  streamStopped(): void {
    this.fallback?.streamStopped();
  }

  /** The stream's caps: the intro is checked against them now (status and messages say whether it plays). */
  caps(caps: GstCaps): void {
    this.intro?.for(caps);
  }

  details(introPlays = 0): StationDetails {
    const out: StationDetails = {};
    if (this.fallback && this.c.props['fallback-mount']) out.fallback = this.fallback.details();
    if (this.intro) {
      const d = this.intro.details();
      out.intro = { ...d, plays: d.plays + introPlays };
    }
    return out;
  }

  close(): void {
    this.fallback?.close();
    this.fallback = null;
    this.intro?.close();
    this.intro = null;
  }
}
