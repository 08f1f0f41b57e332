// An http-streamer on every core: N sender processes (child_process.fork of sender-child.ts),
// each serving its share of the listeners. The parent eats the feed once and tees it to the
// children as GDP over their stdin pipes, through a multi-client sender of its own, so a child
// that (re)starts gets the sticky events and a burst from a keyframe like any late eater.
// Each admitted listener's socket crosses to the least-loaded child with the raw bytes of its
// request head (fd passing over the IPC channel, SCM_RIGHTS underneath). A child that dies
// loses only its own listeners. The pool does not restart anything itself: each child slot is
// run by the streamer as a supervised task (runSlot), so its restarts go through the one
// supervision policy (backoff, intensity, escalation). Stats, removals and access log lines come back over
// IPC and are summed here; the client limit is global. Listings and kicks are questions to the
// children over the same channel, answered within CHILD_ANSWER_MS (bounded, as everything else).

import { ChildProcess, fork } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { GdpFrame } from '../../protocol/gdp';
import { MultiClientSender } from '../sender/multi-client-sender';
import { GdpFeedInput } from '../sender/gdp-inputs';
import { StreamHandle } from '../sender/handles';
import { Amount } from '../sender/policy';
import { refuse } from './refusal';
import { AudienceStats, ListenerInfo, ListenerList, MAX_LISTED, PeakTracker, newInstance } from './listener-registry';
import type { ChildAnswer, ChildConfig, ChildReport, ToChild } from './sender-child';

export interface SenderPoolOptions {
  processes: number;
  child: ChildConfig;
  /** The burst a child's new listeners get: the tee keeps that much history for a restarted child. */
  burst: Amount | undefined;
  accessLog?: (line: string) => void;
  log(line: string): void;
}

interface Slot {
  index: number;
  proc: ChildProcess | null;
  /** The prefix of the listener ids of its current process. */
  instance: string;
  /** Processes started in this slot so far (each after the first is a restart). */
  runs: number;
  report: ChildReport | null;
  /** When the last report arrived (ms since the epoch). */
  reportedAt: number;
  /** Listeners handed to it in all (those its last report has not counted yet are on their way). */
  handed: number;
}

export interface PoolStats {
  clients: number;
  bytesServed: number;
  bitrateOut: number;
  removed: Record<string, number>;
  processes: Array<{ pid: number | null; clients: number; restarts: number }>;
  /** Listeners the streamer's intro was played to, in every process. */
  introPlays: number;
}

/** How long a child has to answer a listing or a kick (ms). */
export const CHILD_ANSWER_MS = 2000;
/** Questions to the children waiting for their answers, at most. */
const MAX_QUESTIONS = 256;

/** The child's entry point: compiled beside this file, or (running from the sources, in tests) in dist/. */
const CHILD = [path.join(__dirname, 'sender-child.js'), path.resolve(__dirname, '../../dist/transport/http/sender-child.js')].find((f) => fs.existsSync(f)) ?? path.join(__dirname, 'sender-child.js');

export class SenderPool {
  private readonly tee: MultiClientSender;
  private readonly input: GdpFeedInput;
  private readonly slots: Slot[] = [];
  private closed = false;
  /** Totals of children that are gone, so sums never go back. */
  private retiredBytes = 0;
  private readonly retiredRemoved: Record<string, number> = {};
  private retiredSeconds = 0;
  private retiredIntroPlays = 0;
  private readonly peak = new PeakTracker();
  private questionSeq = 0;
  private readonly questions = new Map<number, { answer: (a: ChildAnswer | null) => void; timer: NodeJS.Timeout }>();

  constructor(private readonly o: SenderPoolOptions) {
    this.tee = new MultiClientSender({
      unitFormat: 'bytes',
      unitsMax: 64 * 1024 * 1024,
      maxQueueBytes: 64 * 1024 * 1024,
      resendStreamheader: false, // sticky packets are queued in order; new children are primed
      burst: o.burst,
      timeoutMs: 10000,
    });
    this.input = new GdpFeedInput(this.tee);
    this.tee.on('client-removed', (_id, reason) => {
      if (reason === 'slow') this.o.log('a sender process fell behind its feed: restarting it');
    });
    for (let i = 0; i < o.processes; i++) {
      this.slots.push({ index: i, proc: null, instance: '', runs: 0, report: null, reportedAt: 0, handed: 0 });
    }
  }

  get processes(): number {
    return this.slots.length;
  }

  /**
   * Runs slot `index`: a sender process until it exits (then `ended` says why) or until the
   * returned function stops it. Whoever calls it decides about restarts (a supervised task).
   */
  runSlot(index: number, ended: (why: string) => void): () => Promise<void> {
    const s = this.slots[index];
    const proc = this.spawn(s, ended);
    return () => this.stopProcess(s, proc);
  }

  /** The data path: one frame to every child (written to their pipes by the tee). */
  frame(f: GdpFrame): void {
    this.input.frame(f);
  }

  get clients(): number {
    let n = 0;
    for (const s of this.slots) if (s.proc) n += this.load(s);
    return n;
  }

  /** Hands an admitted listener to the least-loaded live child; refuses with 503 when none is up. */
  handOff(socket: net.Socket, rawHead: Buffer, since = Date.now()): boolean {
    let best: Slot | null = null;
    for (const s of this.slots) {
      if (!s.proc?.connected) continue;
      if (!best || this.load(s) < this.load(best)) best = s;
    }
    if (!best?.proc) {
      refuse(socket, 503, 'no sender process is ready', { 'Retry-After': '2' });
      return true;
    }
    best.handed++;
    this.peak.see(this.clients);
    best.proc.send({ type: 'listener', head: rawHead.toString('latin1'), since } satisfies ToChild, socket, (err) => {
      if (err) socket.destroy();
    });
    return true;
  }

  stats(): PoolStats {
    let bytes = this.retiredBytes;
    let bitrate = 0;
    let introPlays = this.retiredIntroPlays;
    const removed: Record<string, number> = { ...this.retiredRemoved };
    for (const s of this.slots) {
      const r = s.report;
      if (!r || !s.proc) continue;
      introPlays += r.introPlays ?? 0;
      bytes += r.bytesServed;
      bitrate += r.bitrateOut;
      for (const [k, v] of Object.entries(r.removed)) removed[k] = (removed[k] ?? 0) + v;
    }
    return {
      clients: this.clients,
      bytesServed: bytes,
      bitrateOut: bitrate,
      removed,
      processes: this.slots.map((s) => ({ pid: s.proc?.pid ?? null, clients: s.proc ? (s.report?.clients ?? 0) : 0, restarts: Math.max(0, s.runs - 1) })),
      introPlays,
    };
  }

  /**
   * Listeners now (those on their way to a child included), the most there were at once (seen
   * at each hand-off and each child's report, which follows every arrival and departure within
   * 50 ms) and seconds listened so far.
   */
  audience(now = Date.now()): AudienceStats {
    let seconds = this.retiredSeconds;
    for (const s of this.slots) if (s.proc && s.report) seconds += this.secondsOf(s, now);
    return { current: this.clients, peak: this.peak.peak, peakTime: this.peak.peakTime, listenerSeconds: seconds };
  }

  /** Every child's listeners, oldest first (at most `limit`); a child that does not answer in time is left out. */
  async listListeners(limit = MAX_LISTED): Promise<ListenerList> {
    const answers = await Promise.all(this.slots.map((s) => this.ask(s, (requestId) => ({ type: 'list', requestId }))));
    const all: ListenerInfo[] = [];
    let total = 0;
    for (const a of answers) {
      if (a?.type !== 'listeners') continue;
      all.push(...a.listeners);
      total += a.total;
    }
    all.sort((a, b) => a.connectedSince - b.connectedSince);
    return { listeners: all.slice(0, limit), total };
  }

  /** Disconnects a listener in whichever child serves it; false when none does. Throws when that child does not answer. */
  async kick(id: string): Promise<boolean> {
    const dash = id.lastIndexOf('-');
    const slot = dash > 0 ? this.slots.find((s) => s.proc && s.instance === id.slice(0, dash)) : undefined;
    if (!slot) return false;
    const a = await this.ask(slot, (requestId) => ({ type: 'kick', requestId, id }));
    if (a?.type !== 'kicked') throw new Error(`sender process ${slot.index} did not answer within ${CHILD_ANSWER_MS} ms`);
    return a.ok;
  }

  /** Every live child reads the streamer's intro file again (the parent got SIGHUP). */
  reloadIntro(): void {
    for (const s of this.slots) if (s.proc?.connected) s.proc.send({ type: 'intro-reload' } satisfies ToChild);
  }

  /** The pids of the live children (tests kill one). */
  pids(): number[] {
    return this.slots.flatMap((s) => (s.proc?.pid ? [s.proc.pid] : []));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.tee.close();
    for (const q of [...this.questions.values()]) q.answer(null);
    await Promise.all(this.slots.map((s) => (s.proc ? this.stopProcess(s, s.proc) : Promise.resolve())));
  }

  /** Ends a slot's process (SIGTERM, then SIGKILL after 2 s); its listeners go with it. */
  private stopProcess(s: Slot, p: ChildProcess | null): Promise<void> {
    if (!p) return Promise.resolve();
    if (s.proc === p) this.retire(s, p);
    if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
      setTimeout(() => p.kill('SIGKILL'), 2000).unref();
    });
  }

  /** The slot's process is gone (or going): its totals are kept, so sums never go back. */
  private retire(s: Slot, proc: ChildProcess): void {
    if (s.proc !== proc) return;
    s.proc = null;
    if (s.report) {
      this.retiredSeconds += this.secondsOf(s, Date.now());
      this.retiredBytes += s.report.bytesServed;
      this.retiredIntroPlays += s.report.introPlays ?? 0;
      for (const [k, v] of Object.entries(s.report.removed)) this.retiredRemoved[k] = (this.retiredRemoved[k] ?? 0) + v;
      this.retiredRemoved.closed = (this.retiredRemoved.closed ?? 0) + s.report.clients; // its listeners went with it
    }
    s.report = null;
  }

  /** Seconds listened in a child: its last report, plus its listeners' time since. */
  private secondsOf(s: Slot, now: number): number {
    const r = s.report;
    return r ? r.listenerSeconds + (r.clients * Math.max(0, now - s.reportedAt)) / 1000 : 0;
  }

  /** Asks a live child a question; null when it is not there or does not answer in time. */
  private ask(s: Slot, question: (requestId: number) => ToChild): Promise<ChildAnswer | null> {
    const proc = s.proc;
    if (!proc?.connected || this.questions.size >= MAX_QUESTIONS) return Promise.resolve(null);
    const requestId = ++this.questionSeq;
    return new Promise((resolve) => {
      const answer = (a: ChildAnswer | null) => {
        const q = this.questions.get(requestId);
        if (!q) return;
        clearTimeout(q.timer);
        this.questions.delete(requestId);
        resolve(a);
      };
      this.questions.set(requestId, { answer, timer: setTimeout(() => answer(null), CHILD_ANSWER_MS) });
      proc.send(question(requestId), (err) => err && answer(null));
    });
  }

  private load(s: Slot): number {
    return (s.report?.clients ?? 0) + s.handed - (s.report?.received ?? 0);
  }

  private spawn(s: Slot, ended: (why: string) => void): ChildProcess | null {
    if (this.closed) return null;
    // The child's stdin carries GDP from the tee; stdout is unused; IPC carries sockets and reports.
    const instance = newInstance();
    const proc = fork(CHILD, [JSON.stringify({ ...this.o.child, instance } satisfies ChildConfig)], { stdio: ['pipe', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
    s.proc = proc;
    s.instance = instance;
    s.report = null;
    s.handed = 0;
    s.runs++;
    proc.stdin?.on('error', () => undefined);
    this.input.prime();
    this.tee.add(new StreamHandle(proc.stdin as NodeJS.WritableStream as never, { label: `sender process ${s.index}`, highWaterBytes: 1024 * 1024 }), {
      syncMethod: 'burst-keyframe',
      burst: this.o.burst ?? { format: 'buffers', value: 1 },
    });
    proc.on('message', (m: ChildReport | ChildAnswer | { type: 'log'; line: string }) => {
      if (s.proc !== proc) return;
      if (m.type === 'log') this.o.accessLog?.(m.line);
      else if (m.type === 'report') {
        s.report = m;
        s.reportedAt = Date.now();
        this.peak.see(this.clients, s.reportedAt);
      } else if (m.type === 'listeners' || m.type === 'kicked') this.questions.get(m.requestId)?.answer(m);
    });
    proc.on('exit', (code, signal) => {
      if (s.proc !== proc) return; // stopped on purpose
      this.retire(s, proc);
      if (!this.closed) ended(`sender process ${s.index} (pid ${proc.pid}) exited (${signal ?? `code ${code}`})`);
    });
    return proc;
  }
}
