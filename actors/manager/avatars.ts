// Manager-side avatars. A worker avatar stands for one worker of the planet for as long as the
// planet names it, connected or not (a lost worker is an avatar in the lost state, not a missing
// actor); it owns the channel to the worker process while it is logged in and carries the
// planet's commands down it. Under it, one component avatar per component placed on that
// worker holds what the manager knows of the component (its last report). Their records live
// outside their mailboxes, so a crash resets them with nothing lost; the planet decides, they carry.

import { Ref, spawn } from 'nact';
import { ComponentSpec, ComponentState, FromManager, ToManager } from '../../protocol/wire';
import { WsChannel } from '../../transport/ws-channel';
import { Mood } from '../component/mood';
import { CONTROL_POLICY, SupervisedRecord, UnknownMessageError, actorName, supervise, supervisedRecord } from '../supervision';

export interface WorkerInfo {
  host?: string;
  pid?: number;
  feedHost?: string;
  feedPort?: number;
}

export type WorkerLinkState = 'never' | 'connected' | 'lost' | 'stopped';

export interface WorkerLive extends SupervisedRecord {
  readonly name: string;
  state: WorkerLinkState;
  info: WorkerInfo;
  channel: WsChannel<ToManager, FromManager> | null;
  connId: number | null;
  /** The worker process's random id: the same process may replace its own stale link. */
  instance: string | null;
  /** The first components report after a login has been handled (adoption done). */
  adopted: boolean;
  cleanShutdown: boolean;
  /** Restart counts of the worker process's own actors, from its reports. */
  process: { restarts: number; linkRestarts: number; cpuSeconds?: number; rssBytes?: number } | null;
  ref: Ref<WorkerAvatarMsg> | null;
}

export interface ComponentLive extends SupervisedRecord {
  readonly spec: ComponentSpec;
  readonly flow: string;
  readonly name: string;
  readonly worker: string;
  /** Eater feed → mode, for wiring. */
  readonly feedModes: Map<string, 'eat-from' | 'feed-to'>;
  /** Eater feed → another planet's feed server and secret (a relay); never shown in status. */
  readonly remotes: Map<string, RemoteFeed>;
  mood: Mood;
  /** An operator wants it running. */
  wanted: boolean;
  lastReport: ComponentState | null;
  ref: Ref<ComponentAvatarMsg> | null;
}

export interface RemoteFeed {
  host: string;
  port: number;
  secret: string;
}

export type WorkerAvatarMsg = { type: 'send'; msg: FromManager } | { type: 'close' };
export type ComponentAvatarMsg = { type: 'report'; state: ComponentState };

export function workerLive(name: string): WorkerLive {
  return { ...supervisedRecord(CONTROL_POLICY), name, state: 'never', info: {}, channel: null, connId: null, instance: null, adopted: false, cleanShutdown: false, process: null, ref: null };
}

export function componentLive(c: Omit<ComponentLive, 'mood' | 'wanted' | 'lastReport' | 'ref' | keyof SupervisedRecord>): ComponentLive {
  return { ...supervisedRecord(CONTROL_POLICY), ...c, mood: 'sleeping', wanted: true, lastReport: null, ref: null };
}

export function spawnComponentAvatar(parent: Ref<unknown>, record: ComponentLive): Ref<ComponentAvatarMsg> {
  record.alive = true;
  record.ref = spawn(
    parent,
    (st: null, m: ComponentAvatarMsg): null => {
      if (m.type !== 'report') throw new UnknownMessageError(`component avatar ${record.spec.id}`, m);
      record.lastReport = m.state;
      return st;
    },
    actorName(`component ${record.spec.id}`),
    { initialState: null, onCrash: supervise<ComponentAvatarMsg>(record) },
  );
  return record.ref;
}

/** Spawns the avatar of a planet worker, with the avatars of the components placed on it. */
export function spawnWorkerAvatar(parent: Ref<unknown>, record: WorkerLive, components: () => ComponentLive[]): Ref<WorkerAvatarMsg> {
  record.alive = true;
  record.ref = spawn(
    parent,
    (st: null, m: WorkerAvatarMsg): null => {
      switch (m.type) {
        case 'send':
          if (record.state === 'connected') record.channel?.send(m.msg);
          return st;
        case 'close':
          record.channel?.close();
          return st;
        default:
          throw new UnknownMessageError(`worker avatar ${record.name}`, m);
      }
    },
    actorName(`worker ${record.name}`),
    {
      initialStateFunc: (ctx) => {
        for (const c of components()) spawnComponentAvatar(ctx.self, c);
        return null;
      },
      onCrash: supervise<WorkerAvatarMsg>(record),
    },
  );
  return record.ref;
}
