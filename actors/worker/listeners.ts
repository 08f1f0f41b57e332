// The worker's side of listener listings and kicks: the manager asks about a component this
// worker runs; its core asks the component (an http-streamer, through its sender processes if
// it has them), and the answer goes back over the link when it is ready. Refusals carry a code
// (not running here, no listeners, no such listener).

import { FromManager, ListenersResult, MAX_LISTED } from '../../protocol/wire';
import { PROTOCOL_ERROR_CODES as P } from '../../protocol/errors';
import { Component } from '../component/component';

export type ListenersQuestion = Extract<FromManager, { type: 'listeners-request' | 'listener-kick' }>;
type Answer = Omit<ListenersResult, 'type' | 'requestId'>;

export function listenersReply(q: ListenersQuestion, a: Answer): ListenersResult {
  return { type: 'listeners-result', requestId: q.requestId, ...a };
}

/** What `c` says to the question (its listeners, or whether the kick found its listener). */
export async function answerListeners(c: Component, type: string, q: ListenersQuestion): Promise<ListenersResult> {
  const control = c.listenerControl();
  if (!control) return listenersReply(q, { ok: false, code: P.MANAGER_NO_LISTENERS, message: `${q.id} (${type}) has no listeners of its own` });
  if (c.mood !== 'happy' && c.mood !== 'hungry') return listenersReply(q, { ok: false, code: P.MANAGER_BAD_STATE, message: `${q.id} is ${c.mood}` });
  try {
    if (q.type === 'listener-kick') {
      const ok = await control.kick(q.listener);
      return listenersReply(q, ok ? { ok: true } : { ok: false, code: P.HTTP_NO_SUCH_LISTENER, message: `${q.id} has no listener ${q.listener} (gone already?)` });
    }
    const list = await control.list();
    return listenersReply(q, { ok: true, listeners: list.listeners.slice(0, MAX_LISTED), total: list.total });
  } catch (e) {
    return listenersReply(q, { ok: false, code: P.MANAGER_NO_ANSWER, message: `${q.id}: ${(e as Error).message}` });
  }
}
