// The worker's side of listener listings and kicks: the manager asks about a component this
// worker runs; the component (an http-streamer, through its sender processes if it has them)
// answers, and the answer goes back over the link. Never blocks the worker actor: the answer is
// sent when it is ready. Refusals carry a code (not running here, no listeners, no such listener).

import { FromManager, ListenersResult, MAX_LISTED } from '../../protocol/wire';
import { PROTOCOL_ERROR_CODES as P } from '../../protocol/errors';
import { API_ERROR_CODES as A } from '../../admin/errors';
import { ComponentRecord } from '../component/component-actor';

type Question = Extract<FromManager, { type: 'listeners-request' | 'listener-kick' }>;
type Answer = Omit<ListenersResult, 'type' | 'requestId'>;

/** What `component` says to the question (its listeners, or whether the kick found its listener). */
export async function answerListeners(record: ComponentRecord | undefined, running: boolean, q: Question): Promise<ListenersResult> {
  const reply = (a: Answer): ListenersResult => ({ type: 'listeners-result', requestId: q.requestId, ...a });
  const c = record?.component;
  if (!c || !running) return reply({ ok: false, code: A.BAD_STATE, message: `${q.id} is not running on this worker` });
  const control = c.listenerControl();
  if (!control) return reply({ ok: false, code: P.MANAGER_NO_LISTENERS, message: `${q.id} (${record.spec.type}) has no listeners of its own` });
  if (c.mood !== 'happy' && c.mood !== 'hungry') return reply({ ok: false, code: A.BAD_STATE, message: `${q.id} is ${c.mood}` });
  try {
    if (q.type === 'listener-kick') {
      const ok = await control.kick(q.listener);
      return reply(ok ? { ok: true } : { ok: false, code: P.HTTP_NO_SUCH_LISTENER, message: `${q.id} has no listener ${q.listener} (gone already?)` });
    }
    const list = await control.list();
    return reply({ ok: true, listeners: list.listeners.slice(0, MAX_LISTED), total: list.total });
  } catch (e) {
    return reply({ ok: false, code: P.MANAGER_NO_ANSWER, message: `${q.id}: ${(e as Error).message}` });
  }
}
