// Manager-side avatars, children of the planet actor. A worker avatar stands for one worker of
// the planet for as long as the planet names it, connected or not (a lost worker is an avatar
// without a channel, not a missing actor): while the worker is logged in it holds the channel
// and carries the planet's commands down it. Under it, one component avatar per component
// placed on that worker keeps the component's last report and publishes it. The planet
// decides; avatars carry and keep. Each avatar owns only its own state and publishes it in the
// live tree; the planet reads what they publish, never writes it.

import { ComponentState, FromManager, ToManager } from '../../protocol/wire';
import { WsChannel } from '../../transport/ws-channel';
import { ActorDef, CONTROL_FLAGS, ChildSpec, Ctx, UnknownMessageError } from '../supervision';

export type WorkerAvatarMsg =
  | { type: 'attach'; channel: WsChannel<ToManager, FromManager>; connId: number }
  | { type: 'detach'; connId: number }
  | { type: 'send'; msg: FromManager }
  | { type: 'close' }
  | { type: 'report'; state: ComponentState }
  | { type: 'forget'; id: string }
  | { type: 'place'; id: string }
  | { type: 'unplace'; id: string };

export type ComponentAvatarMsg = { type: 'report'; state: ComponentState } | { type: 'forget' };

export interface ComponentAvatarView {
  kind: 'component-avatar';
  id: string;
  report: ComponentState | null;
}

export interface WorkerAvatarView {
  kind: 'worker-avatar';
  name: string;
  connected: boolean;
}

export function componentAvatarDef(id: string): ActorDef<{ report: ComponentState | null }, ComponentAvatarMsg> {
  const st: { report: ComponentState | null } = { report: null };
  const publish = (ctx: Ctx<ComponentAvatarMsg>) => ctx.setInfo({ kind: 'component-avatar', read: (): ComponentAvatarView => ({ kind: 'component-avatar', id, report: st.report }) });
  return {
    init(ctx) {
      publish(ctx);
      return st;
    },
    receive(_s, msg, ctx) {
      switch (msg.type) {
        case 'report':
          st.report = msg.state;
          break;
        case 'forget':
          st.report = null;
          break;
        default:
          throw new UnknownMessageError(`component avatar ${id}`, msg);
      }
      publish(ctx);
      return st;
    },
  };
}

export const componentAvatarSpec = (id: string): ChildSpec<string> => ({ id, args: id, restart: 'permanent', shutdown: 1000, start: componentAvatarDef });

interface WorkerAvatarState {
  channel: WsChannel<ToManager, FromManager> | null;
  connId: number | null;
}

export interface WorkerAvatarArgs {
  name: string;
  /** The components placed on this worker. */
  components: string[];
  /** The channel of a worker that is logged in now (a restarted avatar takes it up again). */
  channel?: { channel: WsChannel<ToManager, FromManager>; connId: number } | null;
}

export function workerAvatarDef(a: WorkerAvatarArgs): ActorDef<WorkerAvatarState, WorkerAvatarMsg> {
  const st: WorkerAvatarState = { channel: a.channel?.channel ?? null, connId: a.channel?.connId ?? null };
  const publish = (ctx: Ctx<WorkerAvatarMsg>) => ctx.setInfo({ kind: 'worker-avatar', read: (): WorkerAvatarView => ({ kind: 'worker-avatar', name: a.name, connected: !!st.channel }) });
  return {
    flags: CONTROL_FLAGS,
    children: a.components.map((id) => componentAvatarSpec(id) as ChildSpec),
    init(ctx) {
      publish(ctx);
      return st;
    },
    receive(_s, msg, ctx) {
      switch (msg.type) {
        case 'attach':
          st.channel = msg.channel;
          st.connId = msg.connId;
          publish(ctx);
          return st;
        case 'detach':
          if (st.connId !== msg.connId) return st; // an older link's late news
          st.channel = null;
          st.connId = null;
          publish(ctx);
          return st;
        case 'send':
          st.channel?.send(msg.msg);
          return st;
        case 'close':
          st.channel?.close();
          return st;
        case 'report':
          ctx.send(msg.state.id, { type: 'report', state: msg.state });
          return st;
        case 'forget':
          ctx.send(msg.id, { type: 'forget' });
          return st;
        case 'place':
          void ctx.startChild(componentAvatarSpec(msg.id) as ChildSpec);
          return st;
        case 'unplace':
          void ctx.deleteChild(msg.id);
          return st;
        default:
          throw new UnknownMessageError(`worker avatar ${a.name}`, msg);
      }
    },
  };
}

export const workerAvatarSpec = (a: WorkerAvatarArgs): ChildSpec<WorkerAvatarArgs> => ({ id: `worker ${a.name}`, args: a, restart: 'permanent', shutdown: 2000, start: workerAvatarDef });
