// Manager-side avatars. A worker avatar owns the channel to one connected worker: it sends
// the planet's commands down the link and nothing else. A component avatar holds what the
// manager knows of one live component (its last reported state). Both are small nact actors
// under the planet actor; the planet decides, they carry.

import { Ref, dispatch, spawn } from 'nact';
import { ComponentState, FromManager, ToManager } from '../../protocol/wire';
import { WsChannel } from '../../transport/ws-channel';

export type WorkerAvatarMsg = { type: 'send'; msg: FromManager } | { type: 'close' };

export function spawnWorkerAvatar(parent: Ref<unknown>, name: string, channel: WsChannel<ToManager, FromManager>, seq: number): Ref<WorkerAvatarMsg> {
  return spawn(
    parent,
    (state: null, m: WorkerAvatarMsg) => {
      if (m.type === 'send') channel.send(m.msg);
      else channel.close();
      return state;
    },
    `worker-${name}-${seq}`,
    { initialState: null },
  );
}

export type ComponentAvatarMsg =
  | { type: 'update'; state: ComponentState }
  | { type: 'get'; replyTo: Ref<ComponentState | null> };

export function spawnComponentAvatar(parent: Ref<unknown>, seq: number): Ref<ComponentAvatarMsg> {
  return spawn(
    parent,
    (state: ComponentState | null, m: ComponentAvatarMsg) => {
      if (m.type === 'update') return m.state;
      dispatch(m.replyTo, state);
      return state;
    },
    `component-${seq}`,
    { initialState: null },
  );
}
