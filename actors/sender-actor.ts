// The control face of a multi-client sender: a worker-local nact actor that adds and removes
// clients, clears, reports stats, changes limits and tells subscribers about clients coming
// and going. Media never passes through it: the owner pushes buffers to the sender directly.

import { Ref, dispatch, spawn } from 'nact';
import { AddOptions, ClientStats, MultiClientSender, SenderTotals } from '../transport/sender/multi-client-sender';
import { ClientHandle } from '../transport/sender/handles';
import { RemoveReason, SenderLimitsInput } from '../transport/sender/policy';

export type SenderEvent =
  | { type: 'client-added'; id: number }
  | { type: 'client-removed'; id: number; reason: RemoveReason; stats: ClientStats };

export type SenderReply =
  | { type: 'added'; id: number | null }
  | { type: 'stats'; totals: SenderTotals; clients: ClientStats[] }
  | { type: 'ok' }
  | { type: 'error'; message: string };

export type SenderMsg =
  | { type: 'add'; handle: ClientHandle; options?: AddOptions; replyTo?: Ref<SenderReply> }
  | { type: 'remove'; id: number; flush?: boolean }
  | { type: 'clear' }
  | { type: 'get-stats'; replyTo: Ref<SenderReply> }
  | { type: 'set-limits'; limits: SenderLimitsInput; replyTo?: Ref<SenderReply> }
  | { type: 'subscribe'; subscriber: Ref<SenderEvent> }
  | { type: 'event'; event: SenderEvent };

interface State {
  subscribers: Ref<SenderEvent>[];
}

export function spawnSenderActor(parent: Ref<unknown>, sender: MultiClientSender, name?: string): Ref<SenderMsg> {
  const ref: Ref<SenderMsg> = spawn(
    parent,
    (state: State, msg: SenderMsg): State => {
      switch (msg.type) {
        case 'add': {
          const id = sender.add(msg.handle, msg.options);
          if (msg.replyTo) dispatch(msg.replyTo, { type: 'added', id });
          return state;
        }
        case 'remove':
          if (msg.flush) sender.removeFlush(msg.id);
          else sender.remove(msg.id, 'removed');
          return state;
        case 'clear':
          sender.clear();
          return state;
        case 'get-stats':
          dispatch(msg.replyTo, { type: 'stats', totals: sender.totals(), clients: sender.allStats() });
          return state;
        case 'set-limits':
          try {
            sender.setLimits(msg.limits);
            if (msg.replyTo) dispatch(msg.replyTo, { type: 'ok' });
          } catch (e) {
            if (msg.replyTo) dispatch(msg.replyTo, { type: 'error', message: (e as Error).message });
          }
          return state;
        case 'subscribe':
          return { subscribers: [...state.subscribers, msg.subscriber] };
        case 'event':
          for (const s of state.subscribers) dispatch(s, msg.event);
          return state;
      }
    },
    name,
    { initialState: { subscribers: [] } },
  );
  // Sender events enter the actor's mailbox, so subscribers hear of them in order.
  sender.on('client-added', (id) => dispatch(ref, { type: 'event', event: { type: 'client-added', id } }));
  sender.on('client-removed', (id, reason, stats) => dispatch(ref, { type: 'event', event: { type: 'client-removed', id, reason, stats } }));
  return ref;
}
