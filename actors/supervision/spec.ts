// Child specs and supervisor flags as plain data (OTP's supervisor:child_spec() and sup_flags()).
// A spec says how to build an actor from arguments its parent hands it; it holds no live state,
// so a restart rebuilds the child from the spec and the latest arguments, never from a record
// another actor wrote. Pure types and defaults; the runtime is in node.ts.

import { Ref } from 'nact';
import { BackoffPolicy } from '../../transport/feed/backoff';
import { FluxError } from '../../protocol/errors';
import { SUPERVISION_ERROR_CODES } from './errors';

/** permanent: always restarted; transient: restarted after a crash only; temporary: never. */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/**
 * one_for_one: only the child that exited is restarted. one_for_all: all children are
 * terminated (right to left) and started again (left to right). rest_for_one: the child and
 * those started after it.
 */
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

export interface SupervisorFlags {
  strategy: Strategy;
  /** Restarts allowed within `periodMs`, counted over all children; beyond, the supervisor gives up. */
  intensity: number;
  periodMs: number;
  /** Delay before a restart: jittered exponential per child, reset after `resetAfterMs` of health. */
  backoff: BackoffPolicy;
  resetAfterMs: number;
  /** Messages sent to one child that it has not taken yet, at most; beyond, dropped and counted. */
  mailbox: number;
  /** A child's crash is logged (off where a crash is routine and said elsewhere: feeds reconnecting). */
  logCrashes: boolean;
}

export const DEFAULT_FLAGS: SupervisorFlags = {
  strategy: 'one_for_one',
  intensity: 5,
  periodMs: 30000,
  backoff: { initialMs: 100, maxMs: 5000, factor: 2, jitter: 0.3 },
  resetAfterMs: 30000,
  mailbox: 1024,
  logCrashes: true,
};

/** Why an incarnation ended. `normal` is an exit the child chose (ctx.exit()); `shutdown` is its supervisor's doing. */
export type ExitReason = { kind: 'normal' } | { kind: 'shutdown' } | { kind: 'crash'; error: Error };

/** What a parent learns when one of its children ends (in its own mailbox, see ActorDef.childExited). */
export interface ChildExit {
  id: string;
  reason: ExitReason;
  /** It will be started again (after `delayMs`), or not. */
  restarting: boolean;
  delayMs: number;
  /** What the ended incarnation last published about itself (setInfo), for its parent to keep. */
  info?: unknown;
}

/** The live view of one child, as `status --tree` shows it. */
export type ChildStatus = 'running' | 'backoff' | 'stopped' | 'terminating';

export interface TreeNode {
  id: string;
  state: ChildStatus;
  /** Restarts of this child by its supervisor. */
  restarts: number;
  /** The last abnormal exit's reason, with its time. */
  lastCrash: { reason: string; time: number } | null;
  /** Messages dropped because the child was down or its mailbox full. */
  dropped: number;
  /** What the actor publishes about itself (its own state, for status; nobody else writes it). */
  info?: unknown;
  children: TreeNode[];
}

/** The face of a running incarnation that its definition's functions get. */
export interface Ctx<M> {
  readonly self: Ref<M>;
  readonly id: string;
  /** The arguments the parent handed this incarnation (the latest, see setChildArgs). */
  readonly args: unknown;
  /** Runs `fn` when this incarnation ends, whatever the reason (last registered, first run). */
  defer(fn: () => void | Promise<void>): void;
  /** This incarnation crashes with `error` (from a timer or a callback outside a message). */
  crash(error: Error): void;
  /** `fn`, made safe for callbacks: a throw or a rejection crashes this incarnation; a no-op once it has ended. */
  guard<A extends unknown[]>(fn: (...args: A) => unknown): (...args: A) => void;
  /** This incarnation is still the live one. */
  alive(): boolean;
  /** Ends this incarnation normally (a transient or temporary child is then not restarted). */
  exit(): void;
  /** Sends to self through the bounded mailbox; false when dropped. */
  tell(msg: M): boolean;
  /**
   * Starts a child after the supervision steps already asked for (a deleteChild of the same id
   * included); false when a live child with that id exists.
   */
  startChild(spec: ChildSpec): Promise<boolean>;
  /** Stops a child (with its teardown) and keeps its spec; resolves when it has ended. */
  terminateChild(id: string): Promise<void>;
  /** Terminates a child and forgets its spec. */
  deleteChild(id: string): Promise<void>;
  /** Terminates and starts a child again at once; `counted: false` (default) keeps it out of the intensity (a new stream is no fault). */
  restartChild(id: string, opts?: { counted?: boolean }): Promise<void>;
  /**
   * The reason a child waits is gone (the upstream it dials has moved): a backoff under way ends
   * now, the next restart comes without one, and its backoff starts over from the first delay.
   */
  expedite(id: string): void;
  /** The arguments the child's next incarnation gets (the live one is told by a message, if at all); false when there is no such child. */
  setChildArgs(id: string, args: unknown): boolean;
  /** Sends to a child through its bounded mailbox; false when it is down or full (the drop is counted). */
  send(id: string, msg: unknown): boolean;
  /** A running child's reference (null when it is down). */
  childRef<C>(id: string): Ref<C> | null;
  hasChild(id: string): boolean;
  /** A child's state (null when there is no such child). */
  childStatus(id: string): ChildStatus | null;
  /** The ids of the children, in start order. */
  childIds(): string[];
  /** Publishes what this actor is (a mood, a feed's state...) in its node of the live tree; read-only for others. */
  setInfo(info: unknown): void;
  tree(): TreeNode;
}

/** How to build one actor: a state from `init`, a state after each message. */
export interface ActorDef<S, M> {
  /** Flags for this actor's children (default DEFAULT_FLAGS). */
  flags?: Partial<SupervisorFlags>;
  /** Children started after `init`, left to right. */
  children?: ChildSpec[];
  /** The initial state; may start children and register teardown. A throw is a crash. */
  init(ctx: Ctx<M>): S;
  /** One message; a throw or a rejected promise is a crash of this incarnation. */
  receive(state: S, msg: M, ctx: Ctx<M>): S | Promise<S>;
  /** A child ended (crashed, exited or was terminated by its supervisor's strategy). */
  childExited?(state: S, exit: ChildExit, ctx: Ctx<M>): S | Promise<S>;
}

export interface ChildSpec<A = unknown> {
  id: string;
  /** Builds the actor from the arguments (called for every incarnation). */
  start(args: A): ActorDef<unknown, never> | ActorDef<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  args?: A;
  restart: RestartType;
  /**
   * Overrides the restart type's decision for one exit: true restarts (counted, with backoff),
   * false leaves it ended (a temporary child is then forgotten). E.g. a component's supervisor
   * is restarted after its own crash, but not after it gave up (the component is sad then).
   */
  shouldRestart?(reason: ExitReason): boolean;
  /** ms its teardown may take (its children's included) before it is abandoned with a log line. */
  shutdown: number;
}

/** The error at the bottom of a chain of give-ups (what actually failed). */
export function rootCause(e: Error): Error {
  let cur = e;
  while (cur instanceof IntensityExceeded) cur = cur.last;
  return cur;
}

/** A supervisor whose intensity was exceeded: what its parent sees as the reason it crashed. */
export class IntensityExceeded extends FluxError {
  constructor(
    readonly supervisor: string,
    readonly child: string,
    readonly restarts: number,
    readonly periodMs: number,
    readonly last: Error,
    /** What the child that exited last had published (setInfo). */
    readonly lastInfo?: unknown,
  ) {
    super(SUPERVISION_ERROR_CODES.GAVE_UP, `${supervisor}: ${child} exited ${restarts + 1} times within ${periodMs / 1000} s (intensity ${restarts}); last: ${rootCause(last).message}`);
    this.name = 'IntensityExceeded';
  }
}
