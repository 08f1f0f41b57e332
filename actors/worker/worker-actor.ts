// The worker actor: the root of a worker process's tree. It supervises the link to the manager
// (a child that dials again by itself) and one component actor per component the manager
// placed here; it does what the manager asks (start, stop, eat-from, feed-to; listener listings
// and kicks are answered by listeners.ts when ready) and reports every component's state back,
// debounced. Its record is the process's: a crash of this actor resumes
// with the record and the children untouched (the message that made it throw is dropped).
//
//   worker ─┬─ link (ws to the manager; LINK_POLICY: forever, 100 ms → 5 s)
//           └─ component /flow/name (COMPONENT_POLICY: 5 in 30 s, then sad)
//                ├─ feeder NAME ── push HOST:PORT (feed-to; FEED_POLICY: forever, 60 ms → 2 s)
//                └─ eater NAME FEED (FEED_POLICY: each restart is a reconnection)

import { Ref, dispatch, query, spawn, stop as stopActor } from 'nact';
import { ComponentState, FromManager, ToManager } from '../../protocol/wire';
import { ComponentDeps, ComponentMsg, ComponentRecord, componentRecord, componentState, spawnComponentActor, teardownComponent } from '../component/component-actor';
import { LogFn } from '../log';
import { CONTROL_POLICY, SupervisedRecord, UnknownMessageError, actorName, supervise, supervisedRecord } from '../supervision';
import { LinkEvent, LinkMsg, LinkOptions, LinkRecord, linkRecord, spawnManagerLink } from './manager-link';
import { answerListeners } from './listeners';

export interface WorkerRecord extends SupervisedRecord {
  readonly components: Map<string, ComponentRecord>;
  readonly refs: Map<string, Ref<ComponentMsg>>;
  readonly link: LinkRecord;
  linkRef: Ref<LinkMsg> | null;
  reportTimer: NodeJS.Timeout | null;
  stopping: boolean;
  seq: number;
}

export interface WorkerActorOptions {
  /** Without a manager (launch), the worker runs what it is told in-process. */
  link: LinkOptions | null;
  componentDeps: Omit<ComponentDeps, 'changed' | 'log'>;
  log: LogFn;
  /** Every report, also without a manager (launch prints moods from it). */
  onReport?(states: ComponentState[]): void;
}

export type WorkerMsg =
  | LinkEvent
  | { type: 'changed' }
  | { type: 'report' }
  | { type: 'shutdown'; replyTo: Ref<{ type: 'done' }> };

export function workerRecord(): WorkerRecord {
  return { ...supervisedRecord(CONTROL_POLICY), components: new Map(), refs: new Map(), link: linkRecord(), linkRef: null, reportTimer: null, stopping: false, seq: 0 };
}

/** Runs a manager command (or launch's equivalent) against the worker's record. */
export function obey(parent: Ref<unknown>, record: WorkerRecord, o: WorkerActorOptions, changed: () => void, msg: FromManager): void {
  switch (msg.type) {
    case 'start': {
      let ref = record.refs.get(msg.spec.id);
      if (!ref) {
        const rec = componentRecord(msg.spec);
        record.components.set(msg.spec.id, rec);
        ref = spawnComponentActor(parent, rec, { ...o.componentDeps, changed, log: o.log }, actorName(`component ${msg.spec.id} #${++record.seq}`));
        record.refs.set(msg.spec.id, ref);
      }
      dispatch(ref, { type: 'start' });
      return;
    }
    case 'stop': {
      const ref = record.refs.get(msg.id);
      const rec = record.components.get(msg.id);
      if (!ref || !rec) return;
      record.refs.delete(msg.id);
      // Not awaited: the worker goes on with other commands while the component stops. A sad
      // component's actor may be stopped already (it never answers): tear it down directly.
      void query(ref, (replyTo: Ref<{ type: 'stopped' }>) => ({ type: 'stop' as const, replyTo }), 5000)
        .catch(() => teardownComponent(rec))
        .then(() => {
          rec.alive = false;
          stopActor(ref);
          if (record.components.get(msg.id) === rec) record.components.delete(msg.id);
          changed();
        });
      return;
    }
    case 'eat-from': {
      const ref = record.refs.get(msg.id);
      if (ref) dispatch(ref, { type: 'eat-from', feed: msg.feed, host: msg.host, port: msg.port, secret: msg.secret });
      return;
    }
    case 'feed-to': {
      const ref = record.refs.get(msg.id);
      if (ref) dispatch(ref, { type: 'feed-to', feeder: msg.feeder, host: msg.host, port: msg.port });
      return;
    }
    default:
      return; // replies meant for admins, errors: nothing to do here
  }
}

export function spawnWorkerActor(system: Ref<unknown>, record: WorkerRecord, o: WorkerActorOptions): Ref<WorkerMsg> {
  const report = () => {
    record.reportTimer = null;
    // A component being stopped is no longer ours to report (the manager already counts it sleeping).
    const components = [...record.components.entries()].filter(([id]) => record.refs.has(id) || record.stopping).map(([, c]) => componentState(c));
    o.onReport?.(components);
    if (!record.linkRef) return;
    const cpu = process.cpuUsage();
    const worker = { restarts: record.intensity.restarts, linkRestarts: record.link.intensity.restarts, cpuSeconds: (cpu.user + cpu.system) / 1e6, rssBytes: process.memoryUsage.rss() };
    dispatch(record.linkRef, { type: 'send', msg: { type: 'components', components, worker } });
  };
  const self: Ref<WorkerMsg> = spawn(
    system,
    async (st: null, msg: WorkerMsg): Promise<null> => {
      switch (msg.type) {
        case 'link-up':
          report();
          return st;
        case 'manager': {
          const m = msg.msg;
          if (m.type === 'listeners-request' || m.type === 'listener-kick') {
            // Answered when ready (sender processes may take a moment); the mailbox moves on.
            void answerListeners(record.components.get(m.id), record.refs.has(m.id) && !record.stopping, m).then((answer) => {
              if (record.linkRef) dispatch(record.linkRef, { type: 'send', msg: answer });
            });
            return st;
          }
          if (!record.stopping) obey(self, record, o, changed, m);
          return st;
        }
        case 'changed':
          if (!record.reportTimer) record.reportTimer = setTimeout(() => dispatch(self, { type: 'report' }), 30);
          return st;
        case 'report':
          if (record.reportTimer) clearTimeout(record.reportTimer);
          report();
          return st;
        case 'shutdown': {
          // Clean stop: tell the manager first (our components sleep, not lost), stop every
          // component, send the last report, then close the link.
          record.stopping = true;
          const link = record.linkRef;
          if (link) dispatch(link, { type: 'send', msg: { type: 'shutdown' } as ToManager });
          await Promise.all([...record.refs.values()].map((r) => query(r, (replyTo: Ref<{ type: 'stopped' }>) => ({ type: 'stop' as const, replyTo }), 5000).catch(() => undefined)));
          for (const rec of record.components.values()) await teardownComponent(rec);
          report();
          if (link) {
            await new Promise((r) => setTimeout(r, 50));
            dispatch(link, { type: 'close' });
          }
          dispatch(msg.replyTo, { type: 'done' });
          return st;
        }
        default:
          throw new UnknownMessageError('worker', msg);
      }
    },
    'worker',
    {
      initialStateFunc: (ctx) => {
        if (o.link && !record.linkRef) record.linkRef = spawnManagerLink(ctx.self as Ref<LinkEvent>, record.link, o.link);
        return null;
      },
      onCrash: supervise<WorkerMsg>(record, { resume: true, crashed: (err) => o.log(`worker actor crashed (resumed): ${err?.message}`, 'error') }),
    },
  );
  const changed = () => dispatch(self, { type: 'changed' });
  return self;
}
