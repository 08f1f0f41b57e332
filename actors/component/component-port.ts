// The wiring board of one running component: how its eaters, its core and its feeders reach
// each other on the data path (frames by direct calls, never through a mailbox) and how feed
// news reaches the core's mailbox. One per incarnation of the component's supervisor, handed
// to its children as an argument; each child plugs in only its own part and unplugs it when
// it ends, so a restarted child is never reached through a dead one. Keyframe requests travel
// the other way by direct calls too: from a feeder to the core (an eater downstream asked), and
// from the core to its eaters' connections (to ask upstream); they are rare and rate-limited.

import { Feeder } from '../../transport/feed/feeder';
import { FeedFlow } from '../../transport/feed/feed-flow';
import { GdpFrame, StickyState } from '../../protocol/gdp';
import { keyUnitRequestFrame } from '../../protocol/gst/key-unit';
import { Component } from './component';

/** Feed news for the core (control, through its mailbox). */
export type FeedNews =
  | { type: 'feed-up'; eater: string; feed: string }
  | { type: 'feed-down'; eater: string; feed: string; reason: string; code?: string; note: boolean };

export class ComponentPort {
  /** The running component (plugged in by the core while it lives). */
  private component: Component | null = null;
  private crashCore: ((e: Error) => void) | null = null;
  /** The core finished its setup: eaters may deliver. */
  ready = false;
  private readonly senders = new Map<string, Feeder>();
  /** Each output's sticky state (stream-start, caps, segment, tags): a restarted feeder resumes the stream with it. */
  private readonly sticky = new Map<string, StickyState>();
  /** Each eater feed's flow (last media, silence bound), plugged in by the eaters supervisor. */
  private readonly flows = new Map<string, FeedFlow>();
  /** Eater → feed → how to send a frame up that feed's connection (while it is connected). */
  private readonly upstream = new Map<string, Map<string, (frame: GdpFrame) => boolean>>();

  constructor(
    /** Feed news to the core's bounded mailbox. */
    readonly toCore: (news: FeedNews) => void,
    /** The core is set up (to the component's supervisor, which opens the eaters). */
    readonly coreReady: () => void,
  ) {}

  plugCore(c: Component, crash: (e: Error) => void): void {
    this.component = c;
    this.crashCore = crash;
    this.ready = false;
  }

  unplugCore(c: Component): void {
    if (this.component !== c) return;
    this.component = null;
    this.crashCore = null;
    this.ready = false;
  }

  plugSender(feeder: string, f: Feeder): void {
    this.senders.set(feeder, f);
    for (const frame of this.sticky.get(feeder)?.primingFrames() ?? []) f.frame(frame);
  }

  unplugSender(feeder: string, f: Feeder): void {
    if (this.senders.get(feeder) === f) this.senders.delete(feeder);
  }

  plugFlow(feed: string, flow: FeedFlow): void {
    this.flows.set(feed, flow);
  }

  /** An eater feed's flow, read by a component that decides by it (a watchdog). */
  flow(feed: string): FeedFlow | undefined {
    return this.flows.get(feed);
  }

  /** An eater's connection can carry frames upstream (until the returned function unplugs it). */
  plugUpstream(eater: string, feed: string, send: (frame: GdpFrame) => boolean): () => void {
    let m = this.upstream.get(eater);
    if (!m) this.upstream.set(eater, (m = new Map()));
    m.set(feed, send);
    return () => {
      if (this.upstream.get(eater)?.get(feed) === send) this.upstream.get(eater)?.delete(feed);
    };
  }

  /** Asks every connected feed of `eater` (of every eater when null) for a keyframe; how many were asked. */
  requestKeyUnit(eater: string | null): number {
    let n = 0;
    const frame = keyUnitRequestFrame();
    for (const [name, feeds] of this.upstream) {
      if (eater !== null && name !== eater) continue;
      for (const send of feeds.values()) if (send(frame)) n++;
    }
    return n;
  }

  /** A feeder's eater asked for a keyframe: the component decides (a direct call; a throw is the core's crash). */
  keyUnitRequested(feeder: string): void {
    const c = this.component;
    if (!c || !this.ready) return;
    try {
      c.keyUnitRequested(feeder);
    } catch (e) {
      this.crashCore?.(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** The data path in: a frame from an eater to the component. A throw there is the core's crash. */
  eat(eater: string, feed: string, frame: GdpFrame): void {
    const c = this.component;
    if (!c || !this.ready) return;
    try {
      c.eat(eater, feed, frame);
    } catch (e) {
      this.crashCore?.(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** The data path out: a frame from the component to one of its feeders (dropped while that feeder restarts). */
  output(feeder: string, frame: GdpFrame): void {
    if (frame.kind !== 'buffer') {
      let st = this.sticky.get(feeder);
      if (!st) this.sticky.set(feeder, (st = new StickyState()));
      st.update(frame);
    }
    this.senders.get(feeder)?.frame(frame);
  }
}
