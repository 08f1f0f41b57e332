// Runs one gst-launch-1.0 pipeline as a child process with GDP over pipes: each eater feed is
// an extra fd the child reads (`fdsrc fd=N ! gdpdepay`), each feeder an extra fd it writes
// (`gdppay ! fdsink fd=M`). The child dies with its worker (setpriv --pdeathsig KILL, and the
// pipes closing). Frames out are decoded by our codec; frames in are written as they are, with
// a bound per input (over it, buffers are dropped, never caps or events).

import { ChildProcess, spawn, spawnSync } from 'child_process';
import { EventEmitter } from 'events';
import { Readable, Writable } from 'stream';
import { GdpDecoder, GdpFrame } from '../../../protocol/gdp';
import { missingElementsText } from '../gst-elements';

export interface GstChildEvents {
  frame: [feeder: string, frame: GdpFrame];
  stderr: [line: string];
  /** `unbuildable`: gst-launch refused the description (an erroneous pipeline, a missing element): no restart cures that. */
  exit: [code: number | null, signal: NodeJS.Signals | null, errorText: string | null, unbuildable: boolean];
}

/** Splits a gst-launch description into argv tokens the way a shell would (quotes kept together). */
export function tokenize(description: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let has = false;
  for (const ch of description) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
    }
  }
  if (has || cur) out.push(cur);
  return out;
}

/** gst-launch's `no element "X"` gets the Debian package that brings X. */
function withPackage(line: string): string {
  const m = /no element "([^"]+)"/.exec(line);
  return m ? `${line}: ${missingElementsText([m[1]])}` : line;
}

const MAX_INPUT_BACKLOG = 8 * 1024 * 1024;
let setprivOk: boolean | undefined;

export class GstChild extends EventEmitter<GstChildEvents> {
  /** gst-launch refused the description itself (see the exit event). */
  private unbuildable = false;
  private child: ChildProcess | null = null;
  private readonly inputs = new Map<string, Writable>();
  private errorText: string | null = null;
  dropped = 0;

  /**
   * @param description the full gst-launch description with `fd=` numbers already in place
   * @param eaterFds feed id → child fd it reads; @param feederFds feeder name → child fd it writes
   */
  constructor(
    readonly description: string,
    readonly eaterFds: ReadonlyMap<string, number>,
    readonly feederFds: ReadonlyMap<string, number>,
  ) {
    super();
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    const maxFd = Math.max(2, ...this.eaterFds.values(), ...this.feederFds.values());
    const stdio: Array<'ignore' | 'pipe'> = ['ignore', 'ignore', 'pipe'];
    for (let fd = 3; fd <= maxFd; fd++) stdio.push('pipe');
    if (setprivOk === undefined) setprivOk = spawnSync('setpriv', ['--pdeathsig', 'KILL', 'true']).status === 0;
    const argv = ['-e', ...tokenize(this.description)];
    // A process group of its own: a Ctrl-C meant for the worker does not reach the child, which
    // is stopped in order by its component instead (and dies with the worker anyway).
    const child = setprivOk
      ? spawn('setpriv', ['--pdeathsig', 'KILL', 'gst-launch-1.0', ...argv], { stdio, detached: true })
      : spawn('gst-launch-1.0', argv, { stdio, detached: true });
    this.child = child;
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      let nl: number;
      while ((nl = err.indexOf('\n')) >= 0) {
        const line = err.slice(0, nl).trim();
        err = err.slice(nl + 1);
        if (!line) continue;
        // gst-launch's own words are read here, at the boundary: the components get a verdict.
        if (!this.errorText && /^(ERROR|WARNING: erroneous pipeline)/.test(line)) {
          this.errorText = withPackage(line);
          this.unbuildable = /^WARNING: erroneous pipeline/.test(line);
        }
        else if (this.errorText && /reason /.test(line) && !this.errorText.includes('(')) this.errorText += ` (${line})`;
        this.emit('stderr', line);
      }
    });
    for (const [feeder, fd] of this.feederFds) {
      const stream = child.stdio[fd] as Readable;
      const decoder = new GdpDecoder({ onFrame: (f) => this.emit('frame', feeder, f) });
      stream.on('data', (chunk: Buffer) => {
        const e = decoder.push(chunk);
        if (e && !this.errorText) this.errorText = `bad GDP from the pipeline: ${e.code}: ${e.message}`;
      });
      stream.on('error', () => undefined);
    }
    for (const [feed, fd] of this.eaterFds) {
      const stream = child.stdio[fd] as Writable;
      stream.on('error', () => undefined); // EPIPE when the child is gone: the exit event says why
      this.inputs.set(feed, stream);
    }
    child.on('exit', (code, signal) => {
      // What the child wrote last to stderr (its error) may still be in the pipe: read it first.
      const done = () => {
        this.child = null;
        this.emit('exit', code, signal, this.errorText, this.unbuildable);
      };
      const e = child.stderr;
      if (e && !e.destroyed && !e.readableEnded) e.once('close', done);
      else done();
    });
  }

  /** Writes a frame to the child's input for `feed`; buffers are dropped while its backlog is over the bound. */
  write(feed: string, frame: GdpFrame): void {
    const s = this.inputs.get(feed);
    if (!s || s.destroyed) return;
    if (frame.kind === 'buffer' && s.writableLength > MAX_INPUT_BACKLOG) {
      this.dropped++;
      return;
    }
    const chunks = frame.chunks;
    if (chunks.length === 1) {
      s.write(chunks[0]);
      return;
    }
    s.cork(); // a packet that arrived in pieces goes out in one writev
    for (const c of chunks) s.write(c);
    s.uncork();
  }

  /**
   * Writes raw bytes to the child's input `feed` (a source's container bytes). Returns false once
   * the pipe's backlog passes `highWaterMark` bytes: the caller pauses its source until drained().
   */
  writeBytes(feed: string, chunk: Buffer, highWaterMark = 1024 * 1024): boolean {
    const s = this.inputs.get(feed);
    if (!s || s.destroyed) return true;
    s.write(chunk);
    return s.writableLength <= highWaterMark;
  }

  /** Calls `fn` once the input `feed` has written out its backlog. */
  drained(feed: string, fn: () => void): void {
    const s = this.inputs.get(feed);
    if (!s || s.destroyed || s.writableLength === 0) fn();
    else s.once('drain', fn);
  }

  /** Ends the input `feed` (the source finished): the pipeline drains and reaches EOS. */
  endInput(feed: string): void {
    this.inputs.get(feed)?.end();
  }

  /** EOS (inputs closed, SIGINT with -e), then SIGKILL after `graceMs`. Resolves when the child is gone. */
  async stop(graceMs = 3000): Promise<void> {
    const child = this.child;
    if (!child) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    for (const s of this.inputs.values()) s.end();
    child.kill('SIGINT');
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(t);
  }
}
