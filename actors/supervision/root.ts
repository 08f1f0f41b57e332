// The root of a process's tree: a supervisor without an actor of its own, whose give-up ends
// the process (OTP's application master; `up` or systemd starts it again). It starts the
// top-level children in an actor system and stops them, right to left, on a clean shutdown.

import { Ref, start as startSystem, stop as stopSystem } from 'nact';
import { LogFn } from '../log';
import { Node } from './node';
import { ChildSpec, Ctx, SupervisorFlags, TreeNode } from './spec';

export interface RootOptions {
  /** The process's name in the tree (`manager`, `worker NAME`). */
  id: string;
  flags?: Partial<SupervisorFlags>;
  log: LogFn;
  /** Everything was torn down after a give-up: the process must exit (code 70, one clear line). */
  gaveUp(error: Error): void;
  /** Something in the tree changed (an actor's published info, a child's state). */
  changed?(): void;
}

export interface Root {
  /** Sends to a top-level child through its bounded mailbox. */
  send(id: string, msg: unknown): boolean;
  childRef<M>(id: string): Ref<M> | null;
  startChild(spec: ChildSpec): Promise<boolean>;
  /** Terminates a top-level child (with its teardown) and forgets it. */
  deleteChild(id: string): Promise<void>;
  tree(): TreeNode;
  /** Sends to the live actor at `path` (ids from the root) through its bounded mailbox: how tests inject faults anywhere. */
  sendAt(path: string[], msg: unknown): boolean;
  /** Clean shutdown: every child ends, right to left, with its teardown. Idempotent. */
  stop(): Promise<void>;
}

export function startRoot(children: ChildSpec[], o: RootOptions): Root {
  const system = startSystem();
  const root = new Node(o.id, o.id, null, null, { flags: o.flags, init: () => null, receive: (s) => s, children }, undefined, { log: o.log, gaveUp: (e) => {
    stopSystem(system);
    o.gaveUp(e);
  }, changed: o.changed });
  root.initialize(system as Ref<unknown>);
  const ctx: Ctx<unknown> = root.ctx;
  let stopping: Promise<void> | null = null;
  return {
    send: (id, msg) => ctx.send(id, msg),
    childRef: <M>(id: string) => ctx.childRef<M>(id),
    startChild: (spec) => ctx.startChild(spec),
    deleteChild: (id) => ctx.deleteChild(id),
    tree: () => root.describe(),
    sendAt: (path, msg) => (path.length ? root.nodeAt(path.slice(0, -1))?.ctx.send(path[path.length - 1], msg) ?? false : false),
    stop: () => {
      if (!stopping) stopping = root.teardown().then(() => stopSystem(system));
      return stopping;
    },
  };
}
