// watchdog: a fallback switch with eaters `master` and `backup`. It feeds from master while
// master flows, switches to backup as soon as master's feed is disconnected (the eater's check
// interval notices silence), and back when master returns. It overrides the feed hooks: it is
// happy while either feed flows, hungry only when both are down. On each switch the newly
// active stream's sticky events go out first, so consumers see a clean stream change.

import { z } from 'zod';
import { GdpFrame, StickyState } from '../../protocol/gdp';
import { Component } from '../component/component';
import { defineComponentType } from './component-type';

export const watchdogProperties = z.object({}).strict();

type Side = 'master' | 'backup';

export class Watchdog extends Component<z.infer<typeof watchdogProperties>> {
  private active: Side | null = null;
  private readonly sticky: Record<Side, StickyState> = { master: new StickyState(), backup: new StickyState() };
  /** Switches made, for stats and tests. */
  readonly switches: Array<{ to: Side | null; time: number }> = [];

  get activeEater(): Side | null {
    return this.active;
  }

  protected async setup(): Promise<void> {}
  protected async teardown(): Promise<void> {}

  private flowing(side: Side): boolean {
    const e = this.eaters.get(side);
    if (!e) return false;
    for (const f of e.feeds.values()) if (f.connected) return true;
    return false;
  }

  private choose(): void {
    const next: Side | null = this.flowing('master') ? 'master' : this.flowing('backup') ? 'backup' : null;
    if (next !== this.active) {
      this.active = next;
      this.switches.push({ to: next, time: Date.now() });
      this.addMessage('info', next ? `feeding from ${next}` : 'no feed flows');
      if (next) for (const f of this.sticky[next].primingFrames()) this.output('default', f);
    }
    if (this.mood === 'happy' || this.mood === 'hungry') this.setMood(next ? 'happy' : 'hungry');
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
