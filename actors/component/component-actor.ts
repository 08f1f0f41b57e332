// The component actor: one per component a worker runs, child of the worker actor. It creates
// the component from its spec and supervises one feeder actor per feeder and one eater actor per
// eater feed. Control arrives in its mailbox (start, stop, eat-from, feed-to); frames never do:
// eaters call the component, the component calls its feeders' senders.
//
// Lifecycle (the transitions this actor performs; moods are the component's, see component.ts):
//   spawned: the component is created, sleeping; with `wanted` it starts at once.
//   start:   feeders are created and their actors spawned; component.start(); once it is set up,
//            the eater actors are spawned and dial their upstreams (targets kept in the record).
//   crash:   setup failed, a child process died, the data path threw: the component is torn
//            down and the actor throws; the component policy restarts it after a backoff
//            (a fresh component, started again) or, past the intensity, leaves it sad.
//   stop:    eaters and feeders are retired (connections closed, no restart), then teardown.
// Eater actors that crash are restarted by their own feed policy (forever); each crash marks
// the feed disconnected, which the component's hook turns into hungry by default.

import { Ref, dispatch, spawn } from 'nact';
import * as net from 'net';
import { ComponentSpec, ComponentState } from '../../protocol/wire';
import { Component } from './component';
import { ComponentMessage, Mood } from './mood';
import { LogFn, messageLevel } from '../log';
import { TlsMaterial } from '../../transport/tls';
import { COMPONENT_TYPES } from '../components/registry';
import { Feeder } from '../../transport/feed/feeder';
import { EaterMsg, EaterRecord, eaterRecord, retireEater, spawnEater } from '../feed/eater-actor';
import { FeederMsg, FeederRecord, feederRecord, pushRecord, retireFeeder, spawnFeeder } from '../feed/feeder-actor';
import { COMPONENT_POLICY, SupervisedRecord, SupervisionPolicy, UnknownMessageError, actorName, restartNow, supervise, supervisedRecord } from '../supervision';

export interface ComponentDeps {
  secret: string;
  /** TLS for this worker's feed connections (eaters dialing, feeders pushing). */
  feedTls?: TlsMaterial;
  checkIntervalMs: number;
  /** The component's visible state changed (mood, feeds, messages): report it. */
  changed(): void;
  /** Where this component's messages are logged too (with its id as context). */
  log?: LogFn;
  /** The worker's advertised address: listeners reach sockets bound on every interface there. */
  advertiseHost?: string;
}

/** What the worker keeps about one component, outside the component actor's mailbox. */
export interface ComponentRecord extends SupervisedRecord {
  readonly spec: ComponentSpec;
  component: Component | null;
  /** Start was asked for (by the manager or launch); a restart after a crash starts again. */
  wanted: boolean;
  readonly eaters: Map<string, EaterRecord>;
  readonly feeders: Map<string, FeederRecord>;
  readonly eaterRefs: Map<string, Ref<EaterMsg>>;
  readonly feederRefs: Map<string, Ref<FeederMsg>>;
  sadReason: string | null;
  /** Messages of the last instance, kept when it stops (a crash report must survive it). */
  lastMessages: ComponentMessage[];
}

export type ComponentMsg =
  | { type: 'start' }
  | { type: 'stop'; replyTo?: Ref<{ type: 'stopped' }> }
  | { type: 'eat-from'; feed: string; host: string; port: number; secret?: string }
  | { type: 'feed-to'; feeder: string; host: string; port: number }
  | { type: 'crash'; error: Error; instance: Component };

export function componentRecord(spec: ComponentSpec, policy: SupervisionPolicy = COMPONENT_POLICY): ComponentRecord {
  const pushed = new Set(spec.pushed ?? []);
  const eaters = new Map<string, EaterRecord>();
  for (const [eater, feeds] of Object.entries(spec.eaters)) {
    for (const feed of feeds) eaters.set(feed, eaterRecord(eater, feed, pushed.has(feed) ? 'feed-to' : 'eat-from'));
  }
  const feeders = new Map(spec.feeders.map((f) => [f, feederRecord(f, `${spec.id}:${f}`)]));
  return {
    ...supervisedRecord(policy),
    spec,
    component: null,
    wanted: false,
    eaters,
    feeders,
    eaterRefs: new Map(),
    feederRefs: new Map(),
    sadReason: null,
    lastMessages: [],
  };
}

/** Creates the component of a spec (sleeping); invalid properties make it sad at once. */
function create(spec: ComponentSpec, advertiseHost?: string): Component {
  const t = COMPONENT_TYPES.get(spec.type);
  if (!t) throw new Error(`unknown component type '${spec.type}'`);
  const props = t.properties.safeParse(spec.properties);
  const c = t.create(spec.id.split('/')[2], props.success ? props.data : {}) as Component;
  c.flow = spec.id.split('/')[1];
  if (advertiseHost) c.advertiseHost = advertiseHost;
  if (!props.success) {
    c.failedPermanently = true;
    c.fail(`invalid properties: ${props.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return c;
}

/** Retires the children and tears the component down (stop, or before a crash restart). Idempotent. */
export async function teardownComponent(record: ComponentRecord): Promise<void> {
  for (const e of record.eaters.values()) retireEater(e);
  record.eaterRefs.clear();
  for (const f of record.feeders.values()) retireFeeder(f);
  record.feederRefs.clear();
  const c = record.component;
  if (c) {
    if (c.messages.length) record.lastMessages = c.messages.slice(-20);
    await c.stop();
  }
}

export function spawnComponentActor(parent: Ref<unknown>, record: ComponentRecord, deps: ComponentDeps, name: string): Ref<ComponentMsg> {
  record.alive = true;
  const sink = {
    frame: (eater: string, feed: string, f: Parameters<Component['eat']>[2]) => {
      const c = record.component;
      if (!c) return;
      try {
        c.eat(eater, feed, f);
      } catch (e) {
        dispatch(self, { type: 'crash', error: e as Error, instance: c });
      }
    },
    flowing: (eater: string, feed: string) => record.component?.feedConnected(eater, feed),
    stopped: (eater: string, feed: string, reason: string, note: boolean) => {
      const c = record.component;
      if (!c) return;
      const wasUp = c.eaters.get(eater)?.feeds.get(feed)?.connected ?? false;
      c.feedDisconnected(eater, feed);
      if (!note) return;
      // An upstream that is not there yet (it is starting, its worker is logging in) is no alarm.
      if (!wasUp && /^FLUX_FEED_(UNKNOWN_FEED|REFUSED)/.test(reason)) c.addMessage('info', `feed ${feed}: waiting for the upstream (${reason})`);
      else c.addMessage('warning', `feed ${feed} disconnected: ${reason}`);
    },
  };

  const teardown = () => teardownComponent(record);

  const start = async (selfRef: Ref<ComponentMsg>) => {
    const c = record.component;
    if (!c || c.mood !== 'sleeping') return;
    for (const f of record.feeders.values()) {
      const feeder = new Feeder(f.feed);
      f.feeder = feeder;
      feeder.on('eater-added', () => deps.changed());
      feeder.on('eater-removed', () => deps.changed());
      c.connectOutput(f.name, (frame) => feeder.frame(frame));
      record.feederRefs.set(f.name, spawnFeeder(selfRef, f, { secret: deps.secret, tls: deps.feedTls, changed: deps.changed }, actorName(`feeder ${f.name}`)));
    }
    for (const e of record.eaters.values()) c.addFeed(e.eater, e.feed);
    await c.start();
    const mood = c.mood as Mood; // start() moved it on
    if (mood === 'sad' && !c.failedPermanently) {
      // Setup failed (a port in use, a device away...): a crash, for the supervisor to retry.
      const last = c.messages[c.messages.length - 1];
      throw new Error(last?.text ?? 'setup failed');
    }
    if (mood === 'sad') return;
    for (const e of record.eaters.values()) record.eaterRefs.set(e.feed, spawnEater(selfRef, e, { secret: deps.secret, tls: deps.feedTls, checkIntervalMs: deps.checkIntervalMs, sink, changed: deps.changed }, actorName(`eater ${e.eater} ${e.feed}`)));
    deps.changed();
  };

  const self: Ref<ComponentMsg> = spawn(
    parent,
    async (st: null, msg: ComponentMsg, ctx): Promise<null> => {
      switch (msg.type) {
        case 'start':
          record.wanted = true;
          await start(ctx.self); // a throw is a crash: torn down by the supervisor's hook
          return st;
        case 'stop':
          record.wanted = false;
          await teardown();
          deps.changed();
          if (msg.replyTo) dispatch(msg.replyTo, { type: 'stopped' });
          return st;
        case 'eat-from': {
          const e = record.eaters.get(msg.feed);
          if (!e) return st;
          const ref = record.eaterRefs.get(msg.feed);
          const t = e.target;
          const moved = !t || t.host !== msg.host || t.port !== msg.port || t.secret !== msg.secret;
          e.target = { host: msg.host, port: msg.port, secret: msg.secret };
          if (!ref) return st;
          // The upstream moved: an eater waiting out its backoff (or about to) dials the new place now.
          if (moved) restartNow(e);
          dispatch(ref, { type: 'target', host: msg.host, port: msg.port, secret: msg.secret });
          return st;
        }
        case 'feed-to': {
          const f = record.feeders.get(msg.feeder);
          if (!f) return st;
          const ref = record.feederRefs.get(msg.feeder);
          if (ref) dispatch(ref, { type: 'feed-to', host: msg.host, port: msg.port });
          else if (!f.pushes.has(`${msg.host}:${msg.port}`)) {
            f.pushes.set(`${msg.host}:${msg.port}`, pushRecord(msg.host, msg.port));
          }
          return st;
        }
        case 'crash':
          if (msg.instance !== record.component) return st; // a torn-down instance's late news
          record.component?.addMessage('error', `crashed: ${msg.error.message}`);
          throw msg.error;
        default:
          throw new UnknownMessageError(`component ${record.spec.id}`, msg);
      }
    },
    name,
    {
      initialStateFunc: (ctx) => {
        // Spawned, or reset after a crash: a fresh component; it starts again if it was wanted.
        record.eaterRefs.clear();
        record.feederRefs.clear();
        let c: Component;
        try {
          c = create(record.spec, deps.advertiseHost);
        } catch (e) {
          record.sadReason = (e as Error).message;
          record.component = null;
          return null;
        }
        record.component = c;
        c.on('mood', () => deps.changed());
        // One call makes a message: what status shows, and the log line, with the component's id.
        c.on('message', (m) => {
          deps.log?.(m.text, messageLevel(m.level), { component: record.spec.id });
          deps.changed();
        });
        c.on('crash', (error) => dispatch(ctx.self, { type: 'crash', error, instance: c }));
        if (record.wanted && record.alive) dispatch(ctx.self, { type: 'start' });
        return null;
      },
      onCrash: supervise<ComponentMsg>(record, {
        crashed: async () => {
          await teardown();
          deps.changed();
        },
        gaveUp: (err) => {
          const p = record.intensity.policy;
          record.sadReason = `restarted ${p.maxRestarts} times within ${p.windowMs / 1000} s; last error: ${err?.message}`;
          record.component?.fail(record.sadReason);
          record.lastMessages = [...record.lastMessages, { level: 'error' as const, text: record.sadReason, time: Date.now() }].slice(-20);
          deps.changed();
        },
      }),
    },
  );
  return self;
}

/** The feed server found this component's eater waiting for a pushed feed: hand the socket over. */
export function acceptPushed(record: ComponentRecord, feed: string): ((socket: net.Socket, leftover: Buffer) => void) | null {
  const e = record.eaters.get(feed);
  const ref = record.eaterRefs.get(feed);
  if (!e || e.mode !== 'feed-to' || !ref) return null;
  return (socket, leftover) => {
    socket.pause();
    dispatch(ref, { type: 'attach', socket, leftover });
  };
}

/** The feed server has an eater asking for one of this component's feeds: hand it to the feeder actor. */
export function acceptEater(record: ComponentRecord, feed: string): ((socket: net.Socket) => void) | null {
  for (const f of record.feeders.values()) {
    const ref = record.feederRefs.get(f.name);
    if (f.feed === feed && ref && f.feeder) {
      return (socket) => {
        socket.pause();
        dispatch(ref, { type: 'add-eater', socket });
      };
    }
  }
  return null;
}

/** What the manager is told about this component. */
export function componentState(record: ComponentRecord): ComponentState {
  const c = record.component;
  const eaters = new Map<string, ComponentState['eaters'][number]>();
  for (const e of record.eaters.values()) {
    if (!eaters.has(e.eater)) eaters.set(e.eater, { name: e.eater, feeds: [] });
    eaters.get(e.eater)?.feeds.push({
      feedId: e.feed,
      connected: e.state === 'flowing',
      lastDataAgoMs: e.conn?.lastDataAgoMs ?? null,
      state: e.state,
      restarts: e.intensity.restarts,
      mode: e.mode,
      errors: e.errors.size ? Object.fromEntries(e.errors) : undefined,
    });
  }
  const running = !!c && c.mood !== 'sleeping' && c.mood !== 'sad';
  return {
    id: record.spec.id,
    type: record.spec.type,
    mood: record.sadReason ? 'sad' : c?.mood ?? 'sleeping',
    restarts: record.intensity.restarts,
    details: c?.details(),
    messages: c && c.messages.length ? c.messages.slice(-20) : record.lastMessages,
    eaters: [...eaters.values()],
    feeders: [...record.feeders.values()].map((f) => ({
      name: f.name,
      clients: f.feeder?.clientCount ?? 0,
      state: running && f.feeder ? 'running' : 'stopped',
      restarts: f.intensity.restarts,
      pushes: [...f.pushes.values()].map((p) => ({ target: `${p.host}:${p.port}`, state: p.state, restarts: p.intensity.restarts })),
    })),
  };
}
