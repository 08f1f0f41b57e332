// The planet actor: the manager's single source of truth. It holds the planet config and the
// live state (which workers are connected and where their feed servers are, each component's
// mood and whether an operator wants it running), and it decides: start components when
// their worker logs in (re-adopting those already running), wire feeds with eat-from/feed-to,
// mark components sleeping (clean stop) or lost (link gone), and obey admin commands.
//
// Moods the manager sets itself: sleeping (configured, not running), lost (worker gone without
// a clean shutdown, or heartbeat timeout). Everything else is what the component reports.
// Sad is sticky: a sad component is not started again until an operator says so.

import { Ref, dispatch, query, spawn } from 'nact';
import { ComponentSpec, ComponentState, FromManager } from '../../protocol/wire';
import { PlanetConfig, feedRefMode, feedRefText, fullFeedId, parseFeedId } from '../../protocol/planet';
import { COMPONENT_TYPES } from '../components/registry';
import { Mood } from '../component/mood';
import { ComponentAvatarMsg, WorkerAvatarMsg, spawnComponentAvatar } from './avatars';

export interface WorkerInfo {
  host?: string;
  pid?: number;
  feedHost?: string;
  feedPort?: number;
}

interface WorkerLive {
  name: string;
  connected: boolean;
  info: WorkerInfo;
  avatar: Ref<WorkerAvatarMsg> | null;
  /** The first components report after a login has been handled (adoption done). */
  adopted: boolean;
  cleanShutdown: boolean;
}

interface ComponentLive {
  spec: ComponentSpec;
  flow: string;
  name: string;
  worker: string;
  /** Eater feed → mode, for wiring. */
  feedModes: Map<string, 'eat-from' | 'feed-to'>;
  mood: Mood;
  wanted: boolean;
  avatar: Ref<ComponentAvatarMsg>;
  lastReport: ComponentState | null;
}

export interface StatusJson {
  planet: string;
  workers: Array<{ name: string; connected: boolean; host: string | null; pid: number | null; feedPort: number | null }>;
  components: Array<{
    id: string; flow: string; name: string; type: string; worker: string; mood: Mood; pid: number | null;
    eaters: ComponentState['eaters']; feeders: ComponentState['feeders']; messages: ComponentState['messages'];
  }>;
}

export type PlanetMsg =
  | { type: 'worker-login'; name: string; info: WorkerInfo; avatar: Ref<WorkerAvatarMsg> }
  | { type: 'worker-gone'; name: string; avatar: Ref<WorkerAvatarMsg>; reason: string }
  | { type: 'worker-shutdown'; name: string }
  | { type: 'components'; name: string; components: ComponentState[] }
  | { type: 'status'; replyTo: Ref<StatusJson> }
  | { type: 'command'; action: 'start' | 'stop' | 'restart'; id: string; replyTo: Ref<{ ok: boolean; message: string }> };

interface State {
  workers: Map<string, WorkerLive>;
  components: Map<string, ComponentLive>;
}

/** Resolves the planet into component specs (full feed ids, feeders from the type). */
export function planetSpecs(planet: PlanetConfig): Array<Omit<ComponentLive, 'avatar' | 'mood' | 'wanted' | 'lastReport'>> {
  const groups = [{ flow: 'atmosphere', components: planet.atmosphere.components }, ...planet.flows.map((f) => ({ flow: f.name, components: f.components }))];
  const out: Array<Omit<ComponentLive, 'avatar' | 'mood' | 'wanted' | 'lastReport'>> = [];
  for (const g of groups) {
    for (const c of g.components) {
      const t = COMPONENT_TYPES.get(c.type);
      const feedModes = new Map<string, 'eat-from' | 'feed-to'>();
      const eaters: Record<string, string[]> = {};
      for (const [eater, refs] of Object.entries(c.eaters)) {
        eaters[eater] = refs.map((r) => {
          const id = fullFeedId(parseFeedId(feedRefText(r), g.flow) as NonNullable<ReturnType<typeof parseFeedId>>);
          feedModes.set(id, feedRefMode(r));
          return id;
        });
      }
      out.push({
        spec: { id: `/${g.flow}/${c.name}`, type: c.type, properties: c.properties, eaters, feeders: [...(t?.feeders ?? [])] },
        flow: g.flow,
        name: c.name,
        worker: c.worker,
        feedModes,
      });
    }
  }
  return out;
}

export function spawnPlanetActor(parent: Ref<unknown>, planet: PlanetConfig, log: (line: string) => void): Ref<PlanetMsg> {
  let seq = 0;
  const send = (w: WorkerLive | undefined, msg: FromManager) => {
    if (w?.connected && w.avatar) dispatch(w.avatar, { type: 'send', msg });
  };

  /** Tells every connected worker where its components eat from / feed to. Repeats are ignored there. */
  const wire = (s: State) => {
    for (const c of s.components.values()) {
      if (!c.wanted) continue;
      const down = s.workers.get(c.worker);
      for (const [eater, feeds] of Object.entries(c.spec.eaters)) {
        for (const feed of feeds) {
          const upId = feed.slice(0, feed.lastIndexOf(':'));
          const up = s.components.get(upId);
          const upWorker = up && s.workers.get(up.worker);
          if (!up || !upWorker?.connected || !down?.connected) continue;
          if (c.feedModes.get(feed) === 'feed-to') {
            if (down.info.feedPort) send(upWorker, { type: 'feed-to', id: up.spec.id, feeder: feed.slice(feed.lastIndexOf(':') + 1), feed, host: down.info.feedHost ?? '127.0.0.1', port: down.info.feedPort });
          } else if (upWorker.info.feedPort) {
            send(down, { type: 'eat-from', id: c.spec.id, eater, feed, host: upWorker.info.feedHost ?? '127.0.0.1', port: upWorker.info.feedPort });
          }
        }
      }
    }
  };

  const startOn = (s: State, c: ComponentLive) => {
    const w = s.workers.get(c.worker);
    if (!w?.connected) return;
    c.mood = 'waking';
    send(w, { type: 'start', spec: c.spec });
  };

  const status = async (s: State): Promise<StatusJson> => {
    const components = await Promise.all(
      [...s.components.values()].map(async (c) => {
        const r = c.lastReport ?? (await query(c.avatar, (replyTo: Ref<ComponentState | null>) => ({ type: 'get' as const, replyTo }), 1000).catch(() => null));
        const w = s.workers.get(c.worker);
        return {
          id: c.spec.id, flow: c.flow, name: c.name, type: c.spec.type, worker: c.worker, mood: c.mood, pid: w?.connected ? w.info.pid ?? null : null,
          eaters: r?.eaters ?? [], feeders: r?.feeders ?? [], messages: r?.messages ?? [],
        };
      }),
    );
    return {
      planet: planet.name,
      workers: [...s.workers.values()].map((w) => ({ name: w.name, connected: w.connected, host: w.info.host ?? null, pid: w.info.pid ?? null, feedPort: w.info.feedPort ?? null })),
      components,
    };
  };

  return spawn(
    parent,
    async (s: State, msg: PlanetMsg): Promise<State> => {
      switch (msg.type) {
        case 'worker-login': {
          const w = s.workers.get(msg.name) as WorkerLive;
          if (w.avatar && w.avatar !== msg.avatar) dispatch(w.avatar, { type: 'close' }); // a stale link is replaced
          Object.assign(w, { connected: true, info: msg.info, avatar: msg.avatar, adopted: false, cleanShutdown: false });
          log(`manager: worker ${msg.name} logged in (pid ${msg.info.pid ?? '?'}, feeds on ${msg.info.feedHost}:${msg.info.feedPort})`);
          return s;
        }
        case 'worker-shutdown': {
          const w = s.workers.get(msg.name);
          if (w) w.cleanShutdown = true;
          return s;
        }
        case 'worker-gone': {
          const w = s.workers.get(msg.name);
          if (!w || w.avatar !== msg.avatar) return s; // an older link of a worker that logged in again
          w.connected = false;
          w.avatar = null;
          const mood: Mood = w.cleanShutdown ? 'sleeping' : 'lost';
          log(`manager: worker ${msg.name} ${w.cleanShutdown ? 'stopped' : `lost (${msg.reason})`}`);
          for (const c of s.components.values()) {
            if (c.worker === msg.name && c.mood !== 'sad' && c.mood !== 'sleeping') c.mood = mood;
            if (c.worker === msg.name && c.mood === 'sad' && mood === 'sleeping') c.mood = 'sleeping';
          }
          return s;
        }
        case 'components': {
          const w = s.workers.get(msg.name);
          if (!w?.connected) return s;
          const reported = new Map(msg.components.map((c) => [c.id, c]));
          for (const r of msg.components) {
            const c = s.components.get(r.id);
            if (!c || c.worker !== msg.name) continue;
            c.lastReport = r;
            c.mood = r.mood;
            dispatch(c.avatar, { type: 'update', state: r });
          }
          if (!w.adopted) {
            w.adopted = true;
            for (const c of s.components.values()) {
              if (c.worker !== msg.name) continue;
              if (reported.has(c.spec.id)) {
                if (!c.wanted) send(w, { type: 'stop', id: c.spec.id });
                else log(`manager: re-adopted ${c.spec.id} (${c.mood})`);
              } else if (c.wanted && c.mood !== 'sad') {
                startOn(s, c);
              } else if (c.mood === 'lost' || c.mood === 'waking') {
                c.mood = 'sleeping';
              }
            }
            wire(s);
          } else {
            for (const c of s.components.values()) {
              if (c.worker === msg.name && !reported.has(c.spec.id) && c.mood !== 'waking' && c.mood !== 'sad') c.mood = 'sleeping';
            }
          }
          return s;
        }
        case 'status':
          dispatch(msg.replyTo, await status(s));
          return s;
        case 'command': {
          const c = s.components.get(msg.id);
          if (!c) {
            dispatch(msg.replyTo, { ok: false, message: `no component ${msg.id}` });
            return s;
          }
          const w = s.workers.get(c.worker);
          if (msg.action === 'stop' || msg.action === 'restart') {
            c.wanted = msg.action === 'restart';
            send(w, { type: 'stop', id: c.spec.id });
            c.mood = 'sleeping';
            c.lastReport = null;
          }
          if (msg.action === 'start' || msg.action === 'restart') {
            if (msg.action === 'start' && c.mood !== 'sleeping' && c.mood !== 'sad' && c.mood !== 'lost') {
              dispatch(msg.replyTo, { ok: false, message: `${msg.id} is ${c.mood}; start is allowed from sleeping (or sad/lost)` });
              return s;
            }
            if (c.mood === 'sad') send(w, { type: 'stop', id: c.spec.id });
            c.wanted = true;
            if (!w?.connected) {
              dispatch(msg.replyTo, { ok: true, message: `${msg.id} will start when worker ${c.worker} logs in` });
              return s;
            }
            c.mood = 'waking';
            startOn(s, c);
            wire(s);
          }
          dispatch(msg.replyTo, { ok: true, message: `${msg.action} ${msg.id}: done` });
          return s;
        }
      }
    },
    'planet',
    {
      initialStateFunc: (ctx) => {
        const workers = new Map<string, WorkerLive>(planet.workers.map((w) => [w.name, { name: w.name, connected: false, info: {}, avatar: null, adopted: false, cleanShutdown: false }]));
        const components = new Map<string, ComponentLive>();
        for (const c of planetSpecs(planet)) {
          components.set(c.spec.id, { ...c, mood: 'sleeping', wanted: true, avatar: spawnComponentAvatar(ctx.self, ++seq), lastReport: null });
        }
        return { workers, components };
      },
    },
  );
}
