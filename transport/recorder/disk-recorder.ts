// Writes a stream to files in a directory through the multi-client sender, one file client at
// a time: every file starts with the streamheaders and a keyframe, and files rotate by size or
// time at the next keyframe after the limit. A write error (a full disk) stops the recording
// with a typed error; files finished before it are never touched again.

import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as path from 'path';
import { FluxError } from '../../protocol/errors';
import { GdpFrame } from '../../protocol/gdp';
import { BUFFER_FLAG } from '../../protocol/gdp/packet';
import { extensionForCaps } from '../../protocol/media-types';
import { FdHandle } from '../sender/handles';
import { MultiClientSender } from '../sender/multi-client-sender';
import { RawPayloadInput } from '../sender/gdp-inputs';
import { formatFilename } from './filename-template';
import { TRANSPORT_ERROR_CODES as E } from '../errors';

export interface DiskRecorderOptions {
  directory: string;
  /** strftime-like: %Y %m %d %H %M %S %s (epoch) %%, plus {ext} for the stream's extension. */
  filenameTemplate: string;
  /** Start a new file after this many bytes (0 = never). */
  rotateSizeBytes: number;
  /** Start a new file after this many milliseconds (0 = never). */
  rotateTimeMs: number;
}

export const DISK_RECORDER_DEFAULTS: Omit<DiskRecorderOptions, 'directory'> = {
  filenameTemplate: '%Y%m%d-%H%M%S.{ext}',
  rotateSizeBytes: 0,
  rotateTimeMs: 0,
};

export interface RecordedFile {
  path: string;
  bytes: number;
  startedAt: number;
  finishedAt: number;
}

interface Current {
  id: number;
  path: string;
  handle: FdHandle;
  startedAt: number;
}

export interface DiskRecorderEvents {
  'file-started': [path: string];
  'file-finished': [file: RecordedFile];
  failed: [error: FluxError];
}

export class DiskRecorder extends EventEmitter<DiskRecorderEvents> {
  readonly sender: MultiClientSender;
  readonly input: RawPayloadInput;
  readonly options: DiskRecorderOptions;
  private current: Current | null = null;
  private stopped = false;
  private failure: FluxError | null = null;
  readonly finished: RecordedFile[] = [];

  constructor(options: Partial<DiskRecorderOptions> & { directory: string }) {
    super();
    this.options = { ...DISK_RECORDER_DEFAULTS, ...options };
    // A recording client must never be dropped for being slow: the disk is the only client.
    this.sender = new MultiClientSender({ syncMethod: 'next-keyframe', maxQueueBytes: 256 * 1024 * 1024 });
    this.input = new RawPayloadInput(this.sender);
    this.sender.on('client-removed', (id, reason, stats) => {
      const file = this.current && this.current.id === id ? this.current : this.flushing.get(id);
      if (!file) return;
      this.flushing.delete(id);
      if (this.current?.id === id) this.current = null;
      if (reason === 'error') {
        const code = stats.error?.code === 'ENOSPC' ? E.DISK_FULL : E.DISK_WRITE_FAILED;
        this.fail(new FluxError(code, `writing ${file.path} failed: ${stats.error?.message ?? reason}`));
        return;
      }
      const done: RecordedFile = { path: file.path, bytes: stats.bytesSent, startedAt: file.startedAt, finishedAt: Date.now() };
      this.finished.push(done);
      this.emit('file-finished', done);
    });
  }

  private readonly flushing = new Map<number, Current>();

  get error(): FluxError | null {
    return this.failure;
  }

  get currentPath(): string | null {
    return this.current?.path ?? null;
  }

  /** Feeds one GDP frame; rotates before a keyframe when a limit was reached. */
  frame(f: GdpFrame): void {
    if (this.stopped) return;
    if (f.kind === 'buffer' && !(f.bufferFlags & BUFFER_FLAG.DELTA_UNIT) && !(f.bufferFlags & BUFFER_FLAG.HEADER)) {
      if (!this.current || this.rotationDue()) this.rotate();
    }
    this.input.frame(f);
  }

  /** Finishes the current file (it gets everything queued) and stops. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const c = this.current;
    if (c) {
      await new Promise<void>((resolve) => {
        const onRemoved = (id: number) => {
          if (id === c.id) {
            this.sender.off('client-removed', onRemoved);
            resolve();
          }
        };
        this.sender.on('client-removed', onRemoved);
        this.flushing.set(c.id, c);
        this.current = null;
        this.sender.removeFlush(c.id);
      });
    }
    this.sender.close();
  }

  private rotationDue(): boolean {
    const c = this.current;
    if (!c) return true;
    const o = this.options;
    const bytes = this.sender.stats(c.id)?.bytesSent ?? 0;
    const queued = this.sender.queue.lag(this.sender.queue.cursor(c.id)?.next ?? -1, 'bytes');
    if (o.rotateSizeBytes > 0 && bytes + queued >= o.rotateSizeBytes) return true;
    return o.rotateTimeMs > 0 && Date.now() - c.startedAt >= o.rotateTimeMs;
  }

  /** Closes the current file after what it was owed and starts the next one at this keyframe. */
  private rotate(): void {
    const old = this.current;
    if (old) {
      this.flushing.set(old.id, old);
      this.current = null;
      this.sender.removeFlush(old.id);
    }
    const now = new Date();
    let file: string;
    let fd: number;
    try {
      [file, fd] = this.openUnique(formatFilename(this.options.filenameTemplate, now, extensionForCaps(this.input.caps)));
    } catch (e) {
      this.fail(new FluxError(E.DISK_OPEN_FAILED, `cannot create a file in ${this.options.directory}: ${(e as Error).message}`));
      return;
    }
    const handle = new FdHandle(fd, { owned: true, label: file });
    const id = this.sender.add(handle, { syncMethod: 'next-keyframe' }) as number;
    this.current = { id, path: file, handle, startedAt: now.getTime() };
    this.emit('file-started', file);
  }

  private openUnique(name: string): [string, number] {
    const ext = path.extname(name);
    const base = name.slice(0, name.length - ext.length);
    for (let n = 0; ; n++) {
      const candidate = path.join(this.options.directory, n ? `${base}-${n}${ext}` : name);
      try {
        return [candidate, fs.openSync(candidate, 'wx', 0o644)];
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || n > 1000) throw e;
      }
    }
  }

  private fail(err: FluxError): void {
    if (this.failure) return;
    this.failure = err;
    this.stopped = true;
    this.sender.close();
    this.emit('failed', err);
  }
}
