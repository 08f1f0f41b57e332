// watchdog: a fallback switch with eaters `master` and `backup`. It feeds from master while
// master's media flows, and switches to backup (a real source, not filler) as soon as master has
// brought no media for 3/4 of its feed's silence bound: before the eater itself gives master up
// at the bound, and so before anything downstream could find its own feed silent (downstream
// stays happy across the switch). Back to master as soon as master's media flows again. It
// overrides the feed hooks: happy while the side it feeds from flows, hungry only when both are
// down. On each switch the newly active stream's sticky events go out first, so consumers see a
// clean stream change. Master's own chain upstream keeps its true moods (hungry in an outage).

import { z } from 'zod';
import { GdpFrame, StickyState } from '../../protocol/gdp';
import { Component } from '../component/component';
import { defineComponentType } from './component-type';

export const watchdogProperties = z.object({}).strict();

type Side = 'master' | 'backup';

/** The share of a feed's silence bound after which the watchdog no longer feeds from it. */
export const SWITCH_AT = 0.75;
/** How often it looks at its feeds (ms). */
const LOOK_EVERY_MS = 50;

export class Watchdog extends Component<z.infer<typeof watchdogProperties>> {
  private active: Side | null = null;
  private readonly sticky: Record<Side, StickyState> = { master: new StickyState(), backup: new StickyState() };
  private timer: NodeJS.Timeout | null = null;
  /** Switches made, for stats and tests. */
  readonly switches: Array<{ to: Side | null; time: number }> = [];

  get activeEater(): Side | null {
    return this.active;
  }

  protected async setup(): Promise<void> {
    this.timer = setInterval(() => this.choose(), LOOK_EVERY_MS);
    this.timer.unref();
  }

  protected async teardown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Its eater says the feed flows. */
  private flowing(side: Side): boolean {
    const e = this.eaters.get(side);
    if (!e) return false;
    for (const f of e.feeds.values()) if (f.connected) return true;
    return false;
  }

  /** It flows, and its media is fresh: younger than SWITCH_AT of its bound. */
  private fresh(side: Side): boolean {
    const e = this.eaters.get(side);
    if (!e) return false;
    const now = Date.now();
    for (const [feed, f] of e.feeds) {
      if (!f.connected) continue;
      const flow = this.feedFlow(feed);
      if (!flow) return true;
      const ago = flow.lastMediaAgoMs(now);
      if (ago !== null && ago <= SWITCH_AT * flow.bound(now)) return true;
    }
    return false;
  }

  private choose(): void {
    if (this.mood !== 'happy' && this.mood !== 'hungry') return;
    const next: Side | null = this.fresh('master') ? 'master' : this.fresh('backup') ? 'backup' : this.flowing(this.active ?? 'master') ? (this.active ?? 'master') : this.flowing('backup') ? 'backup' : null;
    if (next !== this.active) {
      this.active = next;
      this.switches.push({ to: next, time: Date.now() });
      this.addMessage('info', next ? `feeding from ${next}` : 'no feed flows');
      if (next) for (const f of this.sticky[next].primingFrames()) this.output('default', f);
    }
    this.setMood(next ? 'happy' : 'hungry');
  }

  protected override onFeedConnected(): void {
    this.choose();
  }

  protected override onFeedDisconnected(): void {
    this.choose();
  }

  protected override allFeedsFlowing(): boolean {
    return this.flowing('master') || this.flowing('backup');
  }

  protected override onFrame(eater: string, _feedId: string, f: GdpFrame): void {
    const side = eater as Side;
    if (side !== 'master' && side !== 'backup') return;
    this.sticky[side].update(f);
    if (side === this.active) this.output('default', f);
  }
}

export const watchdogType = defineComponentType({
  type: 'watchdog',
  description: 'feeds from master while it flows, else from backup',
  properties: watchdogProperties,
  eaters: ['master', 'backup'],
  feeders: ['default'],
  gstElements: [],
  create: (name, props) => new Watchdog(name, props),
});
