// A component whose media work is a GStreamer pipeline run by gst-launch-1.0 (GstChild).
// Subclasses say how to lay the pipeline out for their eaters and feeders; this class owns
// the child's life as the component's:
// - setup checks that every element exists (naming the Debian package when one is missing),
//   starts the child and, for producers, waits for its first frame (happy when data flows out;
//   converters and consumers follow their feeds);
// - a child that exits on its own is a crash (restarted by the host's supervision policy),
//   except a pipeline GStreamer cannot even build, which is a configuration error (sad);
// - a new stream on an eater (new stream-start after a reconnection) restarts the child
//   cleanly, so the pipeline never has to renegotiate mid-stream;
// - stop: EOS (inputs closed, SIGINT with -e), SIGKILL after a grace period;
// - a keyframe request (a WHEP viewer's PLI, from a feeder): a video encoder type restarts its
//   encoder with a flush so that its next frame is a keyframe (protocol/gst/key-unit.ts), its
//   output cleaned of the flush; every other pipeline passes the request upstream.

import { GdpFrame, StickyState } from '../../../protocol/gdp';
import { EVENT_TYPES } from '../../../protocol/gst/event-types';
import { FlushedOutput, encoderRestartFrames } from '../../../protocol/gst/key-unit';
import { Component, PermanentError } from '../../component/component';
import { missingElementsText, missingOf } from '../gst-elements';
import { GstChild, tokenize } from './gst-child';

export interface PipelineLayout {
  description: string;
  eaterFds: Map<string, number>;
  feederFds: Map<string, number>;
}

/** Elements named in a description (the first word of each `!`-separated link, without properties). */
export function elementsOf(description: string): string[] {
  // Every bare word is an element: properties have '=', caps a '/', pad references a '.'.
  const out = new Set<string>();
  for (const t of tokenize(description)) if (/^[a-z][a-z0-9_-]*$/.test(t)) out.add(t);
  return [...out];
}

export function missingElements(description: string): Promise<string[]> {
  return missingOf(elementsOf(description));
}

export abstract class PipelineComponent<P> extends Component<P> {
  child: GstChild | null = null;
  private readonly streamIds = new Map<string, string | null>();
  private restarting = false;
  private firstOut: (() => void) | null = null;
  /** A video encoder: keyframe requests restart its encoder (else they go upstream). */
  protected encodesVideo = false;
  /** Keyframes forced by requests from downstream. */
  keyUnitsForced = 0;

  constructor(
    name: string,
    properties: P,
    /** Feeder names of this type (empty for consumers). */
    private readonly feederNames: readonly string[],
  ) {
    super(name, properties);
  }

  /** The gst-launch description and fd numbers for these eater feeds and feeders. */
  /**
   * The gst-launch description and fd numbers for these eater feeds and feeders. `caps` holds
   * each feed's caps text once known: the child of a component with eaters is started when every
   * feed flows, so a layout can pick elements by media type.
   */
  protected abstract layout(eaters: ReadonlyMap<string, readonly string[]>, feeders: readonly string[], caps: ReadonlyMap<string, string>): PipelineLayout;

  private eaterMap(): Map<string, string[]> {
    return new Map([...this.eaters].map(([name, e]) => [name, [...e.feeds.keys()]]));
  }

  private feedCaps(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [feed, st] of this.stickies) {
      const c = st.caps;
      if (c) out.set(feed, c.toString());
    }
    return out;
  }

  protected async setup(): Promise<void> {
    const eaters = this.eaterMap();
    const layout = this.layout(eaters, this.feederNames, new Map());
    const missing = await missingElements(layout.description);
    if (missing.length) {
      throw new PermanentError(missingElementsText(missing));
    }
    if (eaters.size === 0) {
      // A producer is set up once data flows out of it.
      await new Promise<void>((resolve, reject) => {
        this.firstOut = resolve;
        this.spawnChild(layout, (text, unbuildable) => reject(unbuildable ? new PermanentError(text) : new Error(text)));
        setTimeout(() => reject(new Error('the pipeline produced nothing within 15 s')), 15000).unref();
      });
    }
    // With eaters, the child starts when every feed flows (see onFrame).
    if (eaters.size === 0) this.addMessage('info', `pipeline running (pid ${this.child?.pid}): ${layout.description}`);
  }

  private spawnChild(layout: PipelineLayout, failedEarly: (text: string, unbuildable: boolean) => void): GstChild {
    const child = new GstChild(layout.description, layout.eaterFds, layout.feederFds);
    this.child = child;
    let produced = false;
    // The child's messages are handled here, outside any call of the host: a throw in them is a
    // crash of this component, never of the worker process.
    const cleaned = new Map<string, FlushedOutput>();
    child.on(
      'frame',
      this.guarded((feeder: string, f: GdpFrame) => {
        if (!produced) {
          produced = true;
          this.firstOut?.();
          this.firstOut = null;
        }
        if (!this.encodesVideo) return this.fromChild(feeder, f);
        let c = cleaned.get(feeder);
        if (!c) cleaned.set(feeder, (c = new FlushedOutput()));
        const out = c.frame(f);
        if (out) this.fromChild(feeder, out);
      }),
    );
    child.on('stderr', (line) => {
      if (/^(ERROR|WARNING)/.test(line)) this.addMessage('warning', line);
    });
    child.on('exit', this.guarded((code: number | null, signal: NodeJS.Signals | null, errorText: string | null, unbuildable: boolean) => {
      if (this.child !== child) return; // replaced or stopped on purpose
      this.child = null;
      const text = errorText ?? `gst-launch-1.0 exited (${signal ?? `code ${code}`})`;
      if (!produced && this.mood === 'waking') failedEarly(text, unbuildable);
      else if (unbuildable) this.fail(text);
      else this.crash(new Error(text));
    }));
    child.start();
    return child;
  }

  /** A frame the child produced, out of `feeder`. */
  protected fromChild(feeder: string, f: GdpFrame): void {
    this.output(feeder, f);
  }

  protected async teardown(): Promise<void> {
    const c = this.child;
    this.child = null;
    this.firstOut = null;
    if (c) await c.stop();
  }

  /**
   * Frames into the child. A gate stays closed until every eater feed has delivered a buffer:
   * until then frames wait per feed (later caps replacing earlier ones), then all go in at once.
   * Live muxers would otherwise start with one input, and refuse caps that arrive later.
   */
  protected override onFrame(_eater: string, feedId: string, frame: GdpFrame): void {
    this.sticky(feedId).update(frame);
    if (frame.kind === 'event' && frame.eventType === EVENT_TYPES['stream-start']) {
      const prev = this.streamIds.get(feedId);
      this.streamIds.set(feedId, frame.text);
      if (prev !== undefined && prev !== frame.text && this.child && !this.restarting) {
        this.restartChild(feedId);
        return;
      }
    }
    if (this.gateOpen) {
      this.child?.write(feedId, frame);
      return;
    }
    const q = this.pending.get(feedId) ?? [];
    this.pending.set(feedId, q);
    const capsAt = frame.kind === 'caps' ? q.findIndex((f) => f.kind === 'caps') : -1;
    if (capsAt >= 0) q[capsAt] = frame;
    else q.push(frame);
    // Bounded: beyond 1,000 frames a waiting feed keeps its sticky frames and its newest data.
    if (q.length > 1000) {
      const oldest = q.findIndex((f) => f.kind === 'buffer');
      if (oldest >= 0) q.splice(oldest, 1);
    }
    if (frame.kind === 'buffer') this.ready.add(feedId);
    const feeds = [...this.eaters.values()].flatMap((e) => [...e.feeds.keys()]);
    if (feeds.every((f) => this.ready.has(f))) {
      this.gateOpen = true;
      if (!this.child && (this.mood === 'happy' || this.mood === 'hungry')) {
        const layout = this.layout(this.eaterMap(), this.feederNames, this.feedCaps());
        const child = this.spawnChild(layout, (text, unbuildable) => (unbuildable ? this.fail(text) : this.crash(new Error(text))));
        this.addMessage('info', `pipeline running (pid ${child.pid}): ${layout.description}`);
      }
      for (const f of feeds) for (const fr of this.pending.get(f) ?? []) this.child?.write(f, fr);
      this.pending.clear();
    }
  }

  protected override onKeyUnitRequest(feeder: string): void {
    if (!this.encodesVideo) return super.onKeyUnitRequest(feeder);
    const child = this.child;
    if (!child || !this.gateOpen) return;
    for (const [feed, st] of this.stickies) {
      const segment = st.primingFrames().find((f) => f.kind === 'event' && f.eventType === EVENT_TYPES.segment) ?? null;
      for (const f of encoderRestartFrames(segment)) child.write(feed, f);
    }
    this.keyUnitsForced++;
  }

  private gateOpen = false;
  private readonly pending = new Map<string, GdpFrame[]>();
  private readonly ready = new Set<string>();
  private readonly stickies = new Map<string, StickyState>();

  private sticky(feedId: string): StickyState {
    let s = this.stickies.get(feedId);
    if (!s) this.stickies.set(feedId, (s = new StickyState()));
    return s;
  }

  /**
   * A new upstream stream on `feedId`: a fresh child reads it from its stream-start on; the
   * other feeds go in again from their sticky state, through the gate.
   */
  private restartChild(feedId: string): void {
    const old = this.child;
    if (!old) return;
    this.restarting = true;
    this.addMessage('info', 'new stream on an eater: restarting the pipeline');
    this.child = null;
    this.gateOpen = false;
    this.ready.clear();
    this.pending.clear();
    for (const [f, st] of this.stickies) if (f !== feedId) this.pending.set(f, st.primingFrames());
    this.pending.set(feedId, this.sticky(feedId).primingFrames());
    void old.stop(500);
    // The fresh child starts when every feed flows again, from the frames queued at the gate.
    this.restarting = false;
  }
}
