// Turns one source's container bytes into GDP frames with caps and sync points: a GStreamer
// parser run as a child (`fdsrc ! <parser> ! gdppay ! fdsink`), or fluxcast's WebM splitter in
// process. One parser per source connection: a source that comes back is a new stream, with a
// stream-start of its own (the child's, always the same for an fd source, is replaced).
// Backpressure: write() returns false while the parser is behind; the caller pauses its socket
// until onDrain. Exactly one of 'end' (the source finished and everything came out) or
// 'failed' (the bytes were not what they claimed to be, or the parser died) is emitted.

import { EventEmitter } from 'events';
import { BUFFER_FLAG, GdpFrame, toFrame } from '../../../protocol/gdp';
import { EVENT_TYPES } from '../../../protocol/gst/event-types';
import { wrapString } from '../../../protocol/gst/string-escape';
import { WebmSplitter } from '../../../protocol/media/webm-split';
import { GstChild } from '../pipeline/gst-child';
import { elementsOf } from '../pipeline/pipeline-component';
import { streamStartFrame, timeSegmentFrame } from '../raw-audio';
import { INGEST_FORMATS, IngestFormat } from './formats';

export interface StreamParserEvents {
  frame: [frame: GdpFrame];
  end: [];
  failed: [reason: string];
}

/** A GDP tag event carrying a stream title, as GStreamer writes one (GstTagList-stream). */
export function titleTagFrame(title: string, extra: Record<string, string> = {}): GdpFrame {
  return tagFrame({ title, ...extra });
}

/**
 * A GDP tag event with these tags (GstTagList-stream): strings, and unsigned integers (such as
 * `nominal-bitrate`, bits per second). Undefined ones are left out.
 */
export function tagFrame(tags: Record<string, string | number | undefined>): GdpFrame {
  let inner = 'taglist';
  for (const [k, v] of Object.entries(tags)) {
    if (v === undefined) continue;
    inner += typeof v === 'number' ? `, ${k}=(uint)${Math.max(0, Math.round(v))}` : `, ${k}=(string)${wrapString(v)}`;
  }
  inner += ';';
  return toFrame({ kind: 'event', eventType: EVENT_TYPES.tag, structure: `GstTagList-stream, taglist=(taglist)${wrapString(inner)};` });
}

/** The parser child's pipeline for a GStreamer-parsed format: source bytes in on fd 3, GDP out on fd 4. */
export function parserDescription(chain: string): string {
  return `fdsrc fd=3 ! ${chain} ! gdppay ! fdsink fd=4 sync=false`;
}

/** Every element a source's parser may run (for the component types that take sources). */
export const PARSER_ELEMENTS: readonly string[] = [
  ...new Set(INGEST_FORMATS.flatMap((f) => (f.kind === 'gst' ? elementsOf(parserDescription(f.chain)) : []))),
];

export class StreamParser extends EventEmitter<StreamParserEvents> {
  private child: GstChild | null = null;
  private splitter: WebmSplitter | null = null;
  private done = false;
  private readonly streamStart = streamStartFrame();
  /** Buffers out so far. */
  buffers = 0;

  constructor(readonly format: IngestFormat) {
    super();
  }

  start(): void {
    const f = this.format;
    if (f.kind === 'webm') {
      this.splitter = new WebmSplitter();
      this.emit('frame', this.streamStart);
      return;
    }
    const child = new GstChild(parserDescription(f.chain), new Map([['in', 3]]), new Map([['out', 4]]));
    this.child = child;
    child.on('frame', (_feeder, frame) => {
      if (this.done) return;
      if (frame.kind === 'event' && frame.eventType === EVENT_TYPES['stream-start']) frame = this.streamStart;
      else if (frame.kind === 'event' && frame.eventType === EVENT_TYPES.eos) return; // the end is told by 'end'
      if (frame.kind === 'buffer') this.buffers++;
      this.emit('frame', frame);
    });
    child.on('exit', (code, signal, errorText) => {
      this.child = null;
      if (this.done) return;
      this.done = true;
      if (code === 0 && !errorText) this.emit('end');
      else this.emit('failed', errorText ?? `the ${f.name} parser exited (${signal ?? `code ${code}`})`);
    });
    child.start();
  }

  /** Source bytes in; false when the caller should wait for onDrain before writing more. */
  write(chunk: Buffer): boolean {
    if (this.done) return true;
    if (this.splitter) {
      try {
        for (const p of this.splitter.push(chunk)) this.webmPiece(p);
      } catch (e) {
        this.fail(`not a WebM stream: ${(e as Error).message}`);
      }
      return true;
    }
    return this.child?.writeBytes('in', chunk) ?? true;
  }

  onDrain(fn: () => void): void {
    if (this.child) this.child.drained('in', fn);
    else fn();
  }

  /** The source finished: what is left is parsed, then 'end'. */
  finish(): void {
    if (this.done) return;
    if (this.splitter) {
      this.done = true;
      this.emit('end');
      return;
    }
    this.child?.endInput('in');
  }

  /** Drops the source at once (no 'end' or 'failed' follows). */
  async stop(): Promise<void> {
    this.done = true;
    const c = this.child;
    this.child = null;
    if (c) await c.stop(500);
  }

  private fail(reason: string): void {
    if (this.done) return;
    this.done = true;
    const c = this.child;
    this.child = null;
    if (c) void c.stop(200);
    this.emit('failed', reason);
  }

  private webmPiece(p: ReturnType<WebmSplitter['push']>[number]): void {
    const f = this.format as Extract<IngestFormat, { kind: 'webm' }>;
    if (p.kind === 'header') {
      this.emit('frame', toFrame({ kind: 'caps', caps: `${f.media}, streamheader=(buffer)< ${p.data.toString('hex')} >` }));
      if (this.buffers === 0) this.emit('frame', timeSegmentFrame());
      this.emit('frame', toFrame({ kind: 'buffer', pts: null, dts: null, duration: null, offset: null, offsetEnd: null, flags: BUFFER_FLAG.HEADER, data: p.data }));
      return;
    }
    this.buffers++;
    this.emit('frame', toFrame({ kind: 'buffer', pts: null, dts: null, duration: null, offset: null, offsetEnd: null, flags: p.sync ? 0 : BUFFER_FLAG.DELTA_UNIT, data: p.data }));
  }
}
