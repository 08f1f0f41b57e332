// Hosts one component on a worker: creates it from its spec, connects its feeders (Feeder +
// multi-client sender) and eaters (EaterLink per feed), and turns feed events into the
// component's feed hooks. Control arrives as messages to a nact actor (one per component,
// under the worker's supervision); frames never do: links call the component directly.
// A component that throws on the data path is reported to its actor, which crashes and is
// restarted by the supervision policy (or made sad when it crashes too often).

import { Ref, dispatch, spawn } from 'nact';
import * as net from 'net';
import { ComponentSpec, ComponentState } from '../../protocol/wire';
import { Component } from '../component/component';
import { COMPONENT_TYPES } from '../components/registry';
import { EaterLink } from '../../transport/feed/eater-link';
import { Feeder } from '../../transport/feed/feeder';
import { RestartIntensity, restartWithIntensity } from '../supervision';

export interface HostDeps {
  secret: string;
  checkIntervalMs: number;
  /** Called whenever the component's visible state changed (mood, feeds, messages). */
  changed: () => void;
}

/** The running parts of one component; rebuilt from the spec on every (re)start. */
export class ComponentHost {
  component: Component | null = null;
  readonly feeders = new Map<string, Feeder>();
  readonly links = new Map<string, EaterLink>(); // by feed id
  private readonly eaterOf = new Map<string, string>(); // feed id → eater name
  crashed: ((err: Error) => void) | null = null;
  sadReason: string | null = null;
  /** Messages of the last instance, kept when it stops (a crash report must survive it). */
  private lastMessages: ComponentState['messages'] = [];

  constructor(
    readonly spec: ComponentSpec,
    private readonly deps: HostDeps,
  ) {}

  get id(): string {
    return this.spec.id;
  }

  async start(): Promise<void> {
    const t = COMPONENT_TYPES.get(this.spec.type);
    if (!t) throw new Error(`unknown component type '${this.spec.type}'`);
    const props = t.properties.safeParse(this.spec.properties);
    const name = this.spec.id.split('/')[2];
    const flow = this.spec.id.split('/')[1];
    const c = t.create(name, props.success ? props.data : {}) as Component;
    this.component = c;
    c.on('mood', () => this.deps.changed());
    c.on('message', () => this.deps.changed());
    c.on('crash', (e) => this.crashed?.(e));
    for (const feederName of t.feeders) {
      const feeder = new Feeder(`/${flow}/${name}:${feederName}`);
      feeder.on('eater-added', () => this.deps.changed());
      feeder.on('eater-removed', () => this.deps.changed());
      this.feeders.set(feederName, feeder);
      c.connectOutput(feederName, (f) => feeder.frame(f));
    }
    for (const [eater, feeds] of Object.entries(this.spec.eaters)) {
      for (const feed of feeds) {
        c.addFeed(eater, feed);
        this.eaterOf.set(feed, eater);
        const link = new EaterLink({
          feed,
          secret: this.deps.secret,
          checkIntervalMs: this.deps.checkIntervalMs,
          onFrame: (f) => {
            try {
              c.eat(eater, feed, f);
            } catch (e) {
              this.crashed?.(e as Error);
            }
          },
        });
        link.on('connected', () => {
          c.feedConnected(eater, feed);
          this.deps.changed();
        });
        link.on('disconnected', (reason) => {
          c.feedDisconnected(eater, feed);
          c.addMessage('warning', `feed ${feed} disconnected: ${reason}`);
          this.deps.changed();
        });
        this.links.set(feed, link);
      }
    }
    if (!props.success) {
      // A configuration error: no restart would help.
      c.fail(`invalid properties: ${props.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      return;
    }
    await c.start();
    if (c.mood === 'sad' && !c.failedPermanently) {
      // Setup failed (a port in use, a device away...): a crash, for the supervisor to retry.
      const last = c.messages[c.messages.length - 1];
      throw new Error(last?.text ?? 'setup failed');
    }
  }

  async stop(): Promise<void> {
    for (const l of this.links.values()) l.stop();
    this.links.clear();
    for (const f of this.feeders.values()) f.close();
    this.feeders.clear();
    const c = this.component;
    this.component = null;
    if (c) {
      this.lastMessages = c.messages.slice(-20);
      await c.stop();
    }
  }

  noteSad(text: string): void {
    this.lastMessages = [...this.lastMessages, { level: 'error' as const, text, time: Date.now() }].slice(-20);
  }

  eatFrom(feed: string, host: string, port: number): void {
    this.links.get(feed)?.eatFrom(host, port);
  }

  feedTo(feederName: string, host: string, port: number): void {
    this.feeders.get(feederName)?.feedTo(host, port, this.deps.secret);
  }

  /** The feed server found an eater here for a pushed feed (feedTo from upstream). */
  acceptPushed(feed: string): ((socket: net.Socket, leftover: Buffer) => void) | null {
    const link = this.links.get(feed);
    return link ? (socket, leftover) => link.acceptSocket(socket, leftover) : null;
  }

  state(): ComponentState {
    const c = this.component;
    const eaters = new Map<string, ComponentState['eaters'][number]>();
    for (const [feed, link] of this.links) {
      const name = this.eaterOf.get(feed) as string;
      if (!eaters.has(name)) eaters.set(name, { name, feeds: [] });
      eaters.get(name)?.feeds.push({ feedId: feed, connected: link.connected, lastDataAgoMs: link.lastDataAgoMs });
    }
    return {
      id: this.spec.id,
      type: this.spec.type,
      mood: this.sadReason ? 'sad' : c?.mood ?? 'sleeping',
      messages: c ? c.messages.slice(-20) : this.lastMessages,
      eaters: [...eaters.values()],
      feeders: [...this.feeders].map(([name, f]) => ({ name, clients: f.clientCount })),
    };
  }
}

export type HostMsg =
  | { type: 'start' }
  | { type: 'stop'; replyTo?: Ref<{ type: 'stopped' }> }
  | { type: 'eat-from'; feed: string; host: string; port: number }
  | { type: 'feed-to'; feeder: string; host: string; port: number }
  | { type: 'crash'; error: Error };

/**
 * Spawns the actor of one component. Its state is the ComponentHost; a 'crash' message makes
 * the actor throw, so nact's onCrash applies the restart policy: reset (a fresh host, started
 * again, remembering its feed targets) or, past the intensity, stop and sad.
 */
export function spawnComponentHost(
  parent: Ref<unknown>,
  spec: ComponentSpec,
  deps: HostDeps,
  registry: Map<string, ComponentHost>,
  actorName: string,
): Ref<HostMsg> {
  const intensity = new RestartIntensity();
  const targets = { eat: new Map<string, { host: string; port: number }>(), feed: new Map<string, { host: string; port: number }>() };
  const ref: { self: Ref<HostMsg> | null } = { self: null };
  const toSelf = (m: HostMsg) => ref.self && dispatch(ref.self, m);
  const fresh = (): ComponentHost => {
    const host = new ComponentHost(spec, deps);
    host.crashed = (error) => toSelf({ type: 'crash', error });
    registry.set(spec.id, host);
    return host;
  };
  const self: Ref<HostMsg> = spawn(
    parent,
    async (host: ComponentHost, msg: HostMsg): Promise<ComponentHost> => {
      switch (msg.type) {
        case 'start':
          if (!host.component) {
            try {
              await host.start();
            } catch (e) {
              await host.stop();
              throw e; // onCrash: restart with backoff, or sad past the intensity
            }
            for (const [feed, t] of targets.eat) host.eatFrom(feed, t.host, t.port);
            for (const [feeder, t] of targets.feed) host.feedTo(feeder, t.host, t.port);
            deps.changed();
          }
          return host;
        case 'stop':
          await host.stop();
          deps.changed();
          if (msg.replyTo) dispatch(msg.replyTo, { type: 'stopped' });
          return host;
        case 'eat-from':
          targets.eat.set(msg.feed, { host: msg.host, port: msg.port });
          host.eatFrom(msg.feed, msg.host, msg.port);
          return host;
        case 'feed-to':
          targets.feed.set(msg.feeder, { host: msg.host, port: msg.port });
          host.feedTo(msg.feeder, msg.host, msg.port);
          return host;
        case 'crash':
          host.component?.addMessage('error', `crashed: ${msg.error.message}`);
          await host.stop();
          throw msg.error;
      }
    },
    actorName,
    {
      initialStateFunc: () => {
        const host = fresh();
        // After a supervised reset the component starts again by itself.
        if (intensity.recentCrashes > 0) setImmediate(() => toSelf({ type: 'start' }));
        return host;
      },
      onCrash: restartWithIntensity<HostMsg>(intensity, (err) => {
        const host = registry.get(spec.id);
        if (host) {
          host.sadReason = `restarted ${intensity.policy.maxRestarts} times within ${intensity.policy.windowMs / 1000} s; last error: ${err?.message}`;
          host.component?.fail(host.sadReason);
          host.noteSad(host.sadReason);
        }
        deps.changed();
      }),
    },
  );
  ref.self = self;
  return self;
}
