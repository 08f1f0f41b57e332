// A component's tasks: the jobs it keeps running besides its own setup (an SRT listener's
// gst-launch child, an HTTP pull's connection, a streamer's sender processes), each under a
// supervisor of its own in the component's tree, so that every restart loop of fluxcast goes
// through one policy (actors/supervision). Under its core, a task's supervisor that gives up
// crashes the core, and the component's own intensity decides from there (sad in the end).
// A component run on its own (a test) gets a process root of its own for its tasks.
//
// One incarnation of a task is one run of its job: `run` starts it; the job ends by `fail`
// (a crash: backoff and intensity count), by `again` (it ended as it should, a caller left:
// it starts over at once, counted nowhere), and is torn down with what it `defer`red.

import { ActorDef, ChildSpec, Root, SupervisorFlags, UnknownMessageError, startRoot } from '../supervision';
import { LogFn } from '../log';

export interface TaskRun {
  /** The job failed: a crash, with backoff and intensity. */
  fail(error: Error): void;
  /** The job ended as it should (a source left): it starts over at once, not counted. */
  again(): void;
  /** Runs when this run ends, whatever the reason. */
  defer(fn: () => void | Promise<void>): void;
  /** This run is still the current one. */
  alive(): boolean;
}

export interface TaskSpec {
  /** Unique within the component (`srt listener`, `sender 1`). */
  id: string;
  /** Its supervisor's flags: how often it may fail, how long it waits between runs. */
  flags: Partial<SupervisorFlags>;
  /** Starts one run of the job (a throw or a rejection is a failure). */
  run(t: TaskRun): void | Promise<void>;
}

export interface TaskHost {
  start(spec: TaskSpec): void;
  /** Ends a task for good. */
  stop(id: string): Promise<void>;
}

type RunMsg = { type: 'again' } | { type: 'fail'; error: Error };

function runDef(spec: TaskSpec): ActorDef<null, RunMsg> {
  return {
    init(ctx) {
      const t: TaskRun = {
        fail: (error) => ctx.crash(error),
        again: () => void ctx.tell({ type: 'again' }),
        defer: (fn) => ctx.defer(fn),
        alive: () => ctx.alive(),
      };
      // A throw, or a rejected promise, from the job's start is a failure of this run.
      ctx.guard(() => spec.run(t))();
      return null;
    },
    receive(st, msg, ctx) {
      if (msg.type === 'fail') throw msg.error;
      if (msg.type === 'again') {
        ctx.exit();
        return st;
      }
      throw new UnknownMessageError(`task ${spec.id}`, msg);
    },
  };
}

/** The task's supervisor: one child (the current run), restarted at once and uncounted after `again`. */
function taskSupervisorDef(spec: TaskSpec): ActorDef<null, never> {
  return {
    flags: spec.flags,
    children: [{ id: 'run', args: spec, restart: 'transient', shutdown: 5000, start: runDef } as ChildSpec],
    init: () => null,
    receive: (st) => st,
    childExited(st, exit, ctx) {
      // A normal end (`again`): the next run starts now, counted nowhere.
      if (exit.reason.kind === 'normal' && !exit.restarting) void ctx.restartChild('run');
      return st;
    },
  };
}

export const taskSpec = (spec: TaskSpec): ChildSpec<TaskSpec> => ({ id: `task ${spec.id}`, args: spec, restart: 'permanent', shutdown: 10000, start: taskSupervisorDef });

/** Tasks of a component that no actor hosts (run on its own): a root of their own; a give-up crashes the component. */
export function standaloneTasks(name: string, log: LogFn, gaveUp: (e: Error) => void): TaskHost & { close(): Promise<void> } {
  let root: Root | null = null;
  return {
    start(spec) {
      root ??= startRoot([], { id: `component ${name}`, flags: { intensity: 0 }, log, gaveUp });
      void root.startChild(taskSpec(spec) as ChildSpec);
    },
    stop: async (id) => {
      await root?.deleteChild(`task ${id}`);
    },
    close: async () => {
      const r = root;
      root = null;
      await r?.stop();
    },
  };
}
