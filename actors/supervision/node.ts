// The supervision runtime on nact: every actor built from an ActorDef runs under a Node that
// knows its children (specs, incarnations, restarts) and its teardown. The parent decides, not
// the child: a crashing child is stopped at once (nact onCrash → stop), its subtree is torn
// down (children right to left, then its own deferred teardown), and its supervisor applies
// the restart type, its intensity and its strategy. Past the intensity the supervisor
// terminates every child and crashes itself, so its own parent decides; at the root, the
// process's give-up hook runs (which exits). Restarts wait on timers, never in a mailbox.
//
// What always holds: an incarnation that ended never runs again (its guarded callbacks and
// late messages are no-ops), its deferred teardown runs exactly once, and a child is started
// only by its own supervisor, from its spec and the latest arguments.

import { Ref, dispatch, spawn, stop as stopActor } from 'nact';
import { Backoff } from '../../transport/feed/backoff';
import { LogFn } from '../log';
import { actorName } from './names';
import { RestartWindow } from './intensity';
import { ActorDef, ChildExit, ChildSpec, ChildStatus, Ctx, DEFAULT_FLAGS, ExitReason, IntensityExceeded, SupervisorFlags, TreeNode } from './spec';

type Internal = { $sup: 'env'; msg: unknown } | { $sup: 'crash'; error: Error } | { $sup: 'child-exit'; exit: ChildExit } | { $sup: 'exit' };

function isInternal(m: unknown): m is Internal {
  return typeof m === 'object' && m !== null && '$sup' in m;
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

interface Entry {
  spec: ChildSpec;
  node: Node | null;
  status: ChildStatus;
  restarts: number;
  lastCrash: { reason: string; time: number } | null;
  backoff: Backoff;
  startedAt: number;
  timer: NodeJS.Timeout | null;
  dropped: number;
  gen: number;
  /** The next restart comes at once (see expedite). */
  skipBackoff: boolean;
}

export interface RuntimeHooks {
  log: LogFn;
  /** The root gave up: everything is torn down; the process must end (exit 70). */
  gaveUp(error: Error): void;
  /** Something in the tree changed (an actor's info, a child's state). */
  changed?(): void;
}

type AnyDef = ActorDef<unknown, unknown>;

export class Node {
  readonly children = new Map<string, Entry>();
  private readonly deferred: Array<() => void | Promise<void>> = [];
  readonly flags: SupervisorFlags;
  private readonly window: RestartWindow;
  ref: Ref<unknown> | null = null;
  state: 'running' | 'terminating' | 'stopped' = 'running';
  /** Messages sent through the bounded mailbox and not taken yet, and their bound (the supervisor's `mailbox` flag). */
  inFlight = 0;
  readonly mailboxBound: number;
  info: unknown;
  private chain: Promise<void> = Promise.resolve();
  private teardownDone: Promise<void> | null = null;
  readonly ctx: Ctx<unknown>;

  constructor(
    readonly id: string,
    readonly path: string,
    private readonly parent: Node | null,
    private readonly entry: Entry | null,
    readonly def: AnyDef,
    readonly args: unknown,
    readonly hooks: RuntimeHooks,
  ) {
    this.flags = { ...DEFAULT_FLAGS, ...def.flags };
    this.window = new RestartWindow(this.flags.intensity, this.flags.periodMs);
    this.mailboxBound = parent?.flags.mailbox ?? this.flags.mailbox;
    this.ctx = this.makeCtx();
  }

  // ---- the incarnation's own life ----

  /** nact's initialStateFunc: the state, then the declared children, left to right. */
  initialize(self: Ref<unknown>): unknown {
    this.ref = self;
    const st = this.def.init(this.ctx);
    for (const spec of this.def.children ?? []) this.addChild(spec);
    return st;
  }

  behaviour(): (state: unknown, msg: unknown) => Promise<unknown> {
    return async (state, msg) => {
      if (!isInternal(msg)) return this.def.receive(state, msg, this.ctx);
      switch (msg.$sup) {
        case 'env':
          this.inFlight--;
          return this.def.receive(state, msg.msg, this.ctx);
        case 'crash':
          throw msg.error;
        case 'child-exit':
          return this.def.childExited ? this.def.childExited(state, msg.exit, this.ctx) : state;
        case 'exit':
          this.ended({ kind: 'normal' });
          return state;
      }
    };
  }

  /** nact's onCrash for this incarnation: it stops now; its supervisor decides what follows. */
  crashed(error: unknown): void {
    this.ended({ kind: 'crash', error: asError(error) });
  }

  /** This incarnation is over (crash, normal exit): no more messages; the parent handles the rest. */
  private ended(reason: ExitReason): void {
    if (this.state !== 'running') return;
    if (this.ref && this.parent) stopActor(this.ref);
    if (this.parent && this.entry) this.parent.childEnded(this.entry, this, reason);
    else void this.rootEnded(reason);
  }

  private async rootEnded(reason: ExitReason): Promise<void> {
    await this.teardown();
    if (reason.kind === 'crash') this.hooks.gaveUp(reason.error);
  }

  /**
   * Tears this incarnation down: its actor stops (and with it nact stops every descendant, so
   * nothing in the subtree takes another message), its children end right to left with their
   * own teardown, then its deferred functions run, last registered first. Runs once.
   */
  teardown(): Promise<void> {
    if (!this.teardownDone) {
      this.teardownDone = (async () => {
        this.state = 'terminating';
        if (this.ref && this.parent) stopActor(this.ref);
        for (const e of [...this.children.values()].reverse()) await this.terminateEntry(e);
        for (const fn of this.deferred.splice(0).reverse()) {
          try {
            await fn();
          } catch (err) {
            this.hooks.log(`${this.path}: teardown failed: ${asError(err).message}`, 'warn');
          }
        }
        this.state = 'stopped';
      })();
    }
    return this.teardownDone;
  }

  // ---- supervising children ----

  /** Supervision steps of this node run one after the other; each resolves with its own result. */
  private serial<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.then(
      () => undefined,
      (err) => this.hooks.log(`${this.path}: supervision step failed: ${asError(err).stack ?? err}`, 'error'),
    );
    return next;
  }

  addChild(spec: ChildSpec): void {
    if (this.children.has(spec.id)) throw new Error(`${this.path}: a child '${spec.id}' exists already`);
    const e: Entry = { spec, node: null, status: 'stopped', restarts: 0, lastCrash: null, backoff: new Backoff(this.flags.backoff), startedAt: 0, timer: null, dropped: 0, gen: 0, skipBackoff: false };
    this.children.set(spec.id, e);
    this.spawnEntry(e);
  }

  private spawnEntry(e: Entry): void {
    if (this.state !== 'running' || !this.ref) {
      e.status = 'stopped';
      return;
    }
    const def = e.spec.start(e.spec.args) as AnyDef;
    const node = new Node(e.spec.id, `${this.path}/${e.spec.id}`, this, e, def, e.spec.args, this.hooks);
    e.node = node;
    e.status = 'running';
    e.startedAt = Date.now();
    e.gen++;
    try {
      spawn(this.ref, node.behaviour(), `${actorName(e.spec.id)}.${e.gen}`, {
        initialStateFunc: (actx) => node.initialize(actx.self),
        onCrash: (_msg, err, actx) => {
          node.crashed(err);
          return actx.stop;
        },
      });
    } catch (err) {
      // Our own actor stopped under us: the child cannot exist.
      e.node = null;
      e.status = 'stopped';
      void node.teardown();
      this.hooks.log(`${this.path}: could not start ${e.spec.id}: ${asError(err).message}`, 'warn');
    }
  }

  private async terminateEntry(e: Entry): Promise<void> {
    if (e.timer) clearTimeout(e.timer);
    e.timer = null;
    const n = e.node;
    e.node = null;
    if (n) {
      e.status = 'terminating';
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), e.spec.shutdown)));
      const r = await Promise.race([n.teardown().then(() => 'done' as const), late]);
      clearTimeout(timer);
      if (r === 'late') this.hooks.log(`${n.path}: teardown took longer than ${e.spec.shutdown} ms; abandoned`, 'warn');
    }
    e.status = 'stopped';
  }

  private notify(exit: ChildExit): void {
    this.hooks.changed?.();
    if (this.ref && this.state === 'running') dispatch(this.ref as Ref<Internal>, { $sup: 'child-exit', exit });
  }

  /** The children a restart of `e` takes along, in start order. */
  private group(e: Entry): Entry[] {
    const all = [...this.children.values()];
    if (this.flags.strategy === 'one_for_all') return all;
    if (this.flags.strategy === 'rest_for_one') return all.slice(all.indexOf(e));
    return [e];
  }

  private childEnded(e: Entry, node: Node, reason: ExitReason): void {
    void this.serial(async () => {
      if (e.node !== node || this.state !== 'running') {
        await node.teardown();
        return;
      }
      e.node = null;
      e.status = 'terminating';
      if (reason.kind === 'crash') e.lastCrash = { reason: reason.error.message, time: Date.now() };
      await node.teardown();
      const restart = e.spec.shouldRestart ? e.spec.shouldRestart(reason) : e.spec.restart === 'permanent' || (e.spec.restart === 'transient' && reason.kind === 'crash');
      if (!restart) {
        e.status = 'stopped';
        if (e.spec.restart === 'temporary' || e.spec.shouldRestart) this.children.delete(e.spec.id);
        this.notify({ id: e.spec.id, reason, restarting: false, delayMs: 0, info: node.info });
        return;
      }
      if (!this.window.allow(Date.now())) {
        e.status = 'stopped';
        this.notify({ id: e.spec.id, reason, restarting: false, delayMs: 0, info: node.info });
        const last = reason.kind === 'crash' ? reason.error : new Error(`exited (${reason.kind})`);
        this.giveUp(new IntensityExceeded(this.path, e.spec.id, this.flags.intensity, this.flags.periodMs, last, node.info));
        return;
      }
      const group = this.group(e);
      for (const o of [...group].reverse()) if (o !== e && o.node) await this.terminateEntry(o);
      if (Date.now() - e.startedAt >= this.flags.resetAfterMs) e.backoff.reset();
      const delayMs = e.skipBackoff ? 0 : e.backoff.next();
      e.skipBackoff = false;
      if (reason.kind === 'crash' && this.flags.logCrashes) this.hooks.log(`${node.path} crashed: ${reason.error.message}; restarting in ${delayMs} ms`, 'warn');
      for (const o of group) {
        o.status = 'backoff';
        this.notify({ id: o.spec.id, reason: o === e ? reason : { kind: 'shutdown' }, restarting: true, delayMs, ...(o === e ? { info: node.info } : {}) });
      }
      // One timer per child, same delay: they fire in start order (left to right).
      for (const o of group) {
        o.timer = setTimeout(
          () =>
            void this.serial(() => {
              o.timer = null;
              if (o.status !== 'backoff' || this.children.get(o.spec.id) !== o) return;
              o.restarts++;
              this.spawnEntry(o);
              this.hooks.changed?.();
            }),
          delayMs,
        );
      }
    });
  }

  /** Too many restarts: every child ends (right to left), then this supervisor crashes. */
  private giveUp(error: IntensityExceeded): void {
    this.hooks.log(error.message, 'error');
    this.ended({ kind: 'crash', error });
  }

  // ---- the context handed to the definition ----

  private makeCtx(): Ctx<unknown> {
    const node = this; // eslint-disable-line @typescript-eslint/no-this-alias
    const entryOf = (id: string) => {
      const e = node.children.get(id);
      if (!e) throw new Error(`${node.path}: no child '${id}'`);
      return e;
    };
    return {
      get self() {
        return node.ref as Ref<unknown>;
      },
      id: node.id,
      args: node.args,
      defer(fn) {
        if (node.state === 'running') node.deferred.push(fn);
        else void Promise.resolve().then(fn); // the end came first: release at once
      },
      crash(error) {
        if (node.state === 'running' && node.ref) dispatch(node.ref as Ref<Internal>, { $sup: 'crash', error });
      },
      guard(fn) {
        return (...a) => {
          if (node.state !== 'running') return;
          try {
            const r = fn(...a) as unknown;
            if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, (err) => node.ctx.crash(asError(err)));
          } catch (err) {
            node.ctx.crash(asError(err));
          }
        };
      },
      alive: () => node.state === 'running',
      exit() {
        if (node.state === 'running' && node.ref) dispatch(node.ref as Ref<Internal>, { $sup: 'exit' });
      },
      tell(msg) {
        if (node.state !== 'running' || !node.ref) return false;
        if (node.inFlight >= node.mailboxBound) {
          if (node.entry) node.entry.dropped++;
          return false;
        }
        node.inFlight++;
        dispatch(node.ref as Ref<Internal>, { $sup: 'env', msg });
        return true;
      },
      startChild(spec) {
        return node.serial(() => {
          const e = node.children.get(spec.id);
          if (e && (e.node || e.status === 'backoff')) return false;
          if (e) node.children.delete(spec.id);
          node.addChild(spec);
          return true;
        }) as Promise<boolean>;
      },
      terminateChild(id) {
        return node.serial(() => node.terminateEntry(entryOf(id)));
      },
      deleteChild(id) {
        return node.serial(async () => {
          const e = node.children.get(id);
          if (!e) return;
          await node.terminateEntry(e);
          node.children.delete(id);
        });
      },
      restartChild(id, opts = {}) {
        return node.serial(async () => {
          const e = entryOf(id);
          await node.terminateEntry(e);
          if (opts.counted && !node.window.allow(Date.now())) {
            node.giveUp(new IntensityExceeded(node.path, id, node.flags.intensity, node.flags.periodMs, new Error('restarted on request')));
            return;
          }
          e.restarts++;
          node.spawnEntry(e);
        });
      },
      expedite(id) {
        const e = node.children.get(id);
        if (!e) return;
        e.backoff.reset();
        if (e.status !== 'backoff' || !e.timer) {
          e.skipBackoff = true;
          return;
        }
        clearTimeout(e.timer);
        e.timer = null;
        void node.serial(() => {
          if (e.status !== 'backoff' || node.children.get(id) !== e) return;
          e.restarts++;
          node.spawnEntry(e);
          node.hooks.changed?.();
        });
      },
      setChildArgs(id, args) {
        const e = node.children.get(id);
        if (!e) return false;
        e.spec = { ...e.spec, args };
        return true;
      },
      send(id, msg) {
        const e = node.children.get(id);
        if (!e) return false;
        const n = e.node;
        if (!n || n.state !== 'running' || !n.ref || n.inFlight >= n.mailboxBound) {
          e.dropped++;
          return false;
        }
        n.inFlight++;
        dispatch(n.ref as Ref<Internal>, { $sup: 'env', msg });
        return true;
      },
      childRef<C>(id: string) {
        const n = node.children.get(id)?.node;
        return n && n.state === 'running' ? (n.ref as Ref<C>) : null;
      },
      hasChild: (id) => node.children.has(id),
      childStatus: (id) => node.children.get(id)?.status ?? null,
      childIds: () => [...node.children.keys()],
      setInfo(info) {
        node.info = info;
        node.hooks.changed?.();
      },
      tree: () => node.describe(),
    };
  }

  /** The live incarnation at `path` (child ids from here), or null. */
  nodeAt(path: string[]): Node | null {
    if (!path.length) return this;
    const n = this.children.get(path[0])?.node;
    return n && n.state === 'running' ? n.nodeAt(path.slice(1)) : null;
  }

  describe(): TreeNode {
    const e = this.entry;
    return {
      id: this.id,
      state: this.state === 'running' ? 'running' : this.state === 'terminating' ? 'terminating' : 'stopped',
      restarts: e?.restarts ?? 0,
      lastCrash: e?.lastCrash ?? null,
      dropped: e?.dropped ?? 0,
      ...(this.info !== undefined ? { info: this.info } : {}),
      children: [...this.children.values()].map((c) => (c.node ? c.node.describe() : { id: c.spec.id, state: c.status, restarts: c.restarts, lastCrash: c.lastCrash, dropped: c.dropped, children: [] })),
    };
  }
}
