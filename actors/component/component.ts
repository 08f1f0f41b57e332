// The base of every component: lifecycle, mood and messages, and the feed hooks. Subclasses
// fill in setup/teardown and what to do with the frames their eaters receive; the actor that
// hosts a component (and the eaters and feeders around it) drives these methods.
//
// Lifecycle and moods (the transitions each method performs):
//   sleeping --start()--> waking --setup() ok--> happy   (no eaters, or every eater flowing)
//                                             \-> hungry  (an eater has no data flowing)
//            waking --setup() throws--> sad (sticky: only stop() leaves it)
//   happy <--> hungry   driven by feedConnected()/feedDisconnected() through the overridable hooks
//                       onFeedConnected/onFeedDisconnected (default: hungry while any feed is down)
//   any --fail(text)--> sad;  any --stop()--> waking --teardown()--> sleeping
//   lost is never set here: the manager decides it when it loses contact with the component.
// Data path: eat() is a direct call from the eater; it never goes through an actor mailbox.
// Keyframe requests: keyUnitRequested() comes from a feeder (an eater downstream asked);
// by default a component passes it upstream through all its eaters, as a GStreamer element
// passes an upstream event to its sink pads; an encoder or a WebRTC ingest answers it itself.

import { EventEmitter } from 'events';
import { GdpFrame } from '../../protocol/gdp';
import { isMedia } from '../../transport/feed/feed-flow';
import { ComponentMessage, Mood } from './mood';
import { TaskHost, TaskSpec, standaloneTasks } from './component-tasks';
import type { ListenerList } from '../../transport/http/listener-registry';
import type { FallbackDetails } from '../../transport/http/fallback';
import type { IntroDetails } from '../../transport/http/intro';
import type { FeedFlow } from '../../transport/feed/feed-flow';

const MAX_MESSAGES = 50;

/** A failure no restart can cure (bad configuration, a missing plugin): the component stays sad. */
export class PermanentError extends Error {}

export interface ComponentEvents {
  mood: [mood: Mood, previous: Mood];
  message: [message: ComponentMessage];
  /** The component cannot go on (a child process died...): its host restarts it under supervision. */
  crash: [error: Error];
}

/** What a component shows beyond its mood (status, admin): a streamer's URLs and audience, a porter's routes. */
export interface ComponentDetails {
  /** A streamer: every URL a listener can use, the primary first (none while it is served nowhere). */
  urls?: string[];
  /** A streamer: `urls[0]` (absent with no URL); a porter: its own base URL. */
  url?: string;
  /** A streamer: its mount point (the playlist's, for HLS). */
  mount?: string;
  clients?: number;
  /** bits per second out to listeners */
  bitrateOut?: number;
  bytesServed?: number;
  /** requests answered (an hls-streamer) */
  requests?: number;
  /** A WHEP streamer: keyframes its viewers asked for (PLI, FIR), and requests sent upstream. */
  keyframeRequests?: number;
  keyframeRequestsUpstream?: number;
  routes?: Array<{ mount: string; owner: string }>;
  /** Listeners that left, by reason. */
  removed?: Record<string, number>;
  /** An ingest producer's source: who sends what, since when. */
  source?: SourceDetails;
  /** Most listeners at once, and when that was first reached (ms since the epoch). */
  peakClients?: number;
  peakTime?: number;
  /** Seconds listened, summed over every listener (those still connected until now). */
  listenerSeconds?: number;
  /** The stream's last titles with when they came, oldest first (at most 50). */
  titles?: Array<{ title: string; time: number }>;
  /** An http-streamer with a fallback-mount: where its listeners are. */
  fallback?: FallbackDetails;
  /** An http-streamer with an intro-file. */
  intro?: IntroDetails;
}

/** A component with listeners of its own (an http-streamer): list them, or disconnect one. */
export interface ListenerControl {
  list(): Promise<ListenerList>;
  /** False when there is no such listener (any more). */
  kick(id: string): Promise<boolean>;
}

export interface SourceDetails {
  connected: boolean;
  address?: string;
  contentType?: string;
  /** ice-name, ice-description, ice-genre, ice-bitrate as the source sent them */
  name?: string;
  description?: string;
  genre?: string;
  bitrate?: string;
  /** the latest metadata update */
  title?: string;
  bytesIn?: number;
  /** ms since the epoch */
  since?: number;
  /** a pulled stream's URL */
  url?: string;
}

export interface EaterState {
  name: string;
  /** connected: the feed flows (its eater said so); lastData: when a media buffer last came (ms since the epoch). */
  feeds: Map<string, { connected: boolean; lastData: number }>;
}

export abstract class Component<Props = unknown> extends EventEmitter<ComponentEvents> {
  private moodValue: Mood = 'sleeping';
  /** Set when setup failed with a PermanentError: restarting would not help. */
  failedPermanently = false;
  readonly messages: ComponentMessage[] = [];
  /** Eater name → feed id → state; filled by addFeed (from the config's eaters). */
  readonly eaters = new Map<string, EaterState>();
  /** Feeder name → where its frames go (the host connects each declared feeder to a Feeder). */
  private readonly outputs = new Map<string, (frame: GdpFrame) => void>();
  /** How to ask upstream for a keyframe (set by whoever runs it: its core, through the port). */
  private upstream: ((eater: string | null) => number) | null = null;
  /** The flow it belongs to (set by whoever runs it; a porter and its streamers share one). */
  flow = 'default';
  /** An eater feed's flow (last media, silence bound), for components that decide by it (a watchdog); set by the core. */
  feedFlow: (feedId: string) => FeedFlow | undefined = () => undefined;
  /** Runs this component's tasks under supervision: its core actor sets it; without one, they get a root of their own. */
  taskHost: TaskHost | null = null;
  private standalone: ReturnType<typeof standaloneTasks> | null = null;
  /**
   * Where listeners reach a socket this component binds on every interface (0.0.0.0, ::): its
   * worker's advertised address (set by whoever runs it; see actors/worker/worker.ts).
   */
  advertiseHost = '127.0.0.1';

  constructor(
    readonly name: string,
    readonly properties: Props,
  ) {
    super();
  }

  get mood(): Mood {
    return this.moodValue;
  }

  /** What to show beyond the mood; nothing by default. */
  details(): ComponentDetails | undefined {
    return undefined;
  }

  /** Its listeners, for components that have some (an http-streamer); null for the others. */
  listenerControl(): ListenerControl | null {
    return null;
  }

  /** Declares that `eater` eats from `feedId` (disconnected until feedConnected). */
  addFeed(eater: string, feedId: string): void {
    let e = this.eaters.get(eater);
    if (!e) this.eaters.set(eater, (e = { name: eater, feeds: new Map() }));
    e.feeds.set(feedId, { connected: false, lastData: 0 });
  }

  async start(): Promise<void> {
    if (this.moodValue !== 'sleeping') throw new Error(`cannot start ${this.name}: it is ${this.moodValue}, not sleeping`);
    this.setMood('waking');
    try {
      await this.setup();
    } catch (e) {
      this.failedPermanently = e instanceof PermanentError;
      const code = (e as { code?: unknown }).code;
      this.fail(`setup failed: ${typeof code === 'string' && code.startsWith('FLUX_') ? `${code}: ` : ''}${(e as Error).message}`);
      return;
    }
    if ((this.moodValue as Mood) === 'waking') this.setMood(this.allFeedsFlowing() ? 'happy' : 'hungry');
  }

  async stop(): Promise<void> {
    if (this.moodValue === 'sleeping') return;
    this.setMood('waking');
    const own = this.standalone;
    this.standalone = null;
    await own?.close();
    try {
      await this.teardown();
    } catch (e) {
      this.addMessage('warning', `teardown: ${(e as Error).message}`);
    }
    this.setMood('sleeping');
  }

  /**
   * Keeps a job running under supervision (a child process, a connection): see
   * component-tasks.ts. Its supervisor's give-up is this component's crash.
   */
  protected startTask(spec: TaskSpec): void {
    if (this.taskHost) return this.taskHost.start(spec);
    this.standalone ??= standaloneTasks(this.name, () => undefined, (e) => this.crash(e));
    this.standalone.start(spec);
  }

  /** Ends a task for good (with its teardown). */
  protected async stopTask(id: string): Promise<void> {
    await (this.taskHost ?? this.standalone)?.stop(id);
  }

  /**
   * `fn`, made safe for callbacks that the component's host does not call itself (a child
   * process's events, a timer, a socket's): a throw, or a rejected promise, is the component's
   * crash (its host restarts it), never the process's.
   */
  protected guarded<A extends unknown[]>(fn: (...a: A) => unknown): (...a: A) => void {
    const crash = (e: unknown) => this.crash(e instanceof Error ? e : new Error(String(e)));
    return (...a) => {
      try {
        const r = fn(...a);
        if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, crash);
      } catch (e) {
        crash(e);
      }
    };
  }

  /** Reports a failure that a restart may cure; the host applies the restart policy. */
  protected crash(error: Error): void {
    this.addMessage('error', error.message);
    this.emit('crash', error);
  }

  /** Puts the component in the sad mood with an error message (sticky until stop). */
  fail(text: string): void {
    this.addMessage('error', text);
    this.setMood('sad');
  }

  /** Called by an eater for each frame of a feed (the data path). */
  eat(eater: string, feedId: string, frame: GdpFrame): void {
    const f = this.eaters.get(eater)?.feeds.get(feedId);
    if (f && isMedia(frame)) f.lastData = Date.now();
    this.onFrame(eater, feedId, frame);
  }

  feedConnected(eater: string, feedId: string): void {
    const f = this.eaters.get(eater)?.feeds.get(feedId);
    if (!f || f.connected) return;
    f.connected = true;
    this.onFeedConnected(eater, feedId);
  }

  feedDisconnected(eater: string, feedId: string): void {
    const f = this.eaters.get(eater)?.feeds.get(feedId);
    if (!f || !f.connected) return;
    f.connected = false;
    this.onFeedDisconnected(eater, feedId);
  }

  /** Connects a feeder of this component to its sink (a Feeder's frame(), or a test's array). */
  connectOutput(feeder: string, sink: (frame: GdpFrame) => void): void {
    this.outputs.set(feeder, sink);
  }

  /** Connects the way upstream: `ask(eater)` sends a keyframe request up that eater's feeds (all eaters: null). */
  connectUpstream(ask: (eater: string | null) => number): void {
    this.upstream = ask;
  }

  /** Asks the feeds of `eater` (every eater when null) for a keyframe; how many feeds were asked. */
  protected requestKeyUnit(eater: string | null = null): number {
    return this.upstream?.(eater) ?? 0;
  }

  /** A feeder's downstream asked for a keyframe (rate-limited by the feeder). */
  keyUnitRequested(feeder: string): void {
    this.onKeyUnitRequest(feeder);
  }

  /** Hook: a keyframe was asked for on `feeder`. Default: ask upstream, through every eater. */
  protected onKeyUnitRequest(_feeder: string): void {
    this.requestKeyUnit(null);
  }

  /** Sends a frame out of a feeder (the data path for producers and converters). */
  protected output(feeder: string, frame: GdpFrame): void {
    this.outputs.get(feeder)?.(frame);
  }

  /** Hook: a feed started flowing. Default: happy once every feed flows. */
  protected onFeedConnected(_eater: string, _feedId: string): void {
    if ((this.moodValue === 'hungry' || this.moodValue === 'happy') && this.allFeedsFlowing()) this.setMood('happy');
  }

  /** Hook: a feed stopped (hang-up, silence, EOS, bad data). Default: hungry. */
  protected onFeedDisconnected(_eater: string, _feedId: string): void {
    if (this.moodValue === 'happy') this.setMood('hungry');
  }

  protected allFeedsFlowing(): boolean {
    for (const e of this.eaters.values()) for (const f of e.feeds.values()) if (!f.connected) return false;
    return true;
  }

  protected setMood(mood: Mood): void {
    const previous = this.moodValue;
    if (previous === mood) return;
    if (previous === 'sad' && mood !== 'waking' && mood !== 'sleeping') return; // sad is sticky
    this.moodValue = mood;
    this.emit('mood', mood, previous);
  }

  addMessage(level: ComponentMessage['level'], text: string): void {
    const m = { level, text, time: Date.now() };
    this.messages.push(m);
    if (this.messages.length > MAX_MESSAGES) this.messages.shift();
    this.emit('message', m);
  }

  /** Acquire resources (listen, open files, start children). Throwing makes the component sad. */
  protected abstract setup(): Promise<void>;
  /** Release everything setup acquired. */
  protected abstract teardown(): Promise<void>;
  /** What to do with a frame from an eater; producers never get any. */
  protected onFrame(_eater: string, _feedId: string, _frame: GdpFrame): void {}
}
