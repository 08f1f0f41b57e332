// An http-streamer's intro file (Icecast's <intro>): played to each new listener before the live
// stream. Read whole at start (at most MAX_INTRO_BYTES, a whole Ogg, MP3 or AAC/ADTS file; see
// protocol/media/stream-format.ts) and again on SIGHUP; a reload that fails keeps the previous
// intro. It is played only while it has the stream's format (container, codec, rate, channels):
// otherwise listeners get the stream alone and the streamer says why, once per change.

import * as fs from 'fs';
import { FluxError } from '../../protocol/errors';
import { GstCaps } from '../../protocol/gst/caps';
import { MediaFileError, StreamFormat, formatLabel, formatOfCaps, incompatibility, readMediaFile } from '../../protocol/media/stream-format';
import { TRANSPORT_ERROR_CODES } from '../errors';

/** The largest intro file read (16 MiB): it is kept in memory, once, for every listener. */
export const MAX_INTRO_BYTES = 16 * 1024 * 1024;

const E = TRANSPORT_ERROR_CODES;

/** Reads and checks an intro file; throws a FluxError (FLUX_INTRO_...) saying what is wrong with it. */
export async function readIntro(file: string): Promise<{ format: StreamFormat; bytes: Buffer }> {
  let buf: Buffer;
  try {
    const st = await fs.promises.stat(file);
    if (!st.isFile()) throw new FluxError(E.INTRO_CANNOT_READ, `intro-file ${file} is not a file`);
    if (st.size > MAX_INTRO_BYTES) throw new FluxError(E.INTRO_TOO_LARGE, `intro-file ${file} has ${st.size} bytes, more than ${MAX_INTRO_BYTES}`);
    buf = await fs.promises.readFile(file);
  } catch (e) {
    if (e instanceof FluxError) throw e;
    throw new FluxError(E.INTRO_CANNOT_READ, `intro-file ${file}: ${(e as Error).message}`);
  }
  // It may have grown between the stat and the read.
  if (buf.length > MAX_INTRO_BYTES) throw new FluxError(E.INTRO_TOO_LARGE, `intro-file ${file} has ${buf.length} bytes, more than ${MAX_INTRO_BYTES}`);
  try {
    return readMediaFile(buf);
  } catch (e) {
    if (e instanceof MediaFileError) throw new FluxError(E.INTRO_BAD_FILE, `intro-file ${file}: ${e.message}`);
    throw e;
  }
}

export interface IntroDetails {
  file: string;
  bytes: number;
  format: string;
  /** It is played to new listeners (false: not the stream's format, or the stream has not started). */
  playing: boolean;
  /** Listeners it was played to. */
  plays: number;
  /** Why it is not played, with its code. */
  error?: string;
}

export class Intro {
  private loaded: { format: StreamFormat; bytes: Buffer } | null = null;
  /** The caps it was last compared with, and the verdict (null: it fits). */
  private verdict: { caps: GstCaps; why: string | null } | null = null;
  private plays = 0;
  private stopWatching: (() => void) | null = null;

  constructor(
    readonly file: string,
    private readonly log: (level: 'info' | 'warning', text: string) => void,
  ) {}

  /** Reads the file; throws (FLUX_INTRO_...) when it cannot be used. */
  async load(): Promise<void> {
    this.loaded = await readIntro(this.file);
    this.verdict = null;
  }

  /** Reads the file again on SIGHUP (a failure keeps the intro there was), and tells `also` (sender processes read it too). */
  watch(also?: () => void): void {
    const onHup = () => {
      void this.reload('SIGHUP');
      also?.();
    };
    process.on('SIGHUP', onHup);
    this.stopWatching = () => process.removeListener('SIGHUP', onHup);
  }

  async reload(why: string): Promise<boolean> {
    try {
      await this.load();
      this.log('info', `intro-file reloaded (${why}): ${this.describe()}`);
      return true;
    } catch (e) {
      this.log('warning', `intro-file not reloaded (${why}), the previous one stays: ${(e as FluxError).code ?? ''} ${(e as Error).message}`.replace('  ', ' '));
      return false;
    }
  }

  close(): void {
    this.stopWatching?.();
    this.stopWatching = null;
  }

  /** The bytes to write to a new listener of a stream with these caps; null when it does not fit that stream. */
  for(caps: GstCaps | null): Buffer | null {
    const intro = this.loaded;
    if (!intro || !caps) return null;
    if (this.verdict?.caps !== caps) {
      const before = this.verdict?.why;
      const mismatch = incompatibility(formatOfCaps(caps), intro.format);
      const why = mismatch ? `${E.INTRO_FORMAT_MISMATCH}: intro-file ${this.file} is not played: ${mismatch}` : null;
      this.verdict = { caps, why };
      if (why && why !== before) this.log('warning', why);
    }
    return this.verdict.why ? null : intro.bytes;
  }

  /** Counts a listener it was played to. */
  played(): void {
    this.plays++;
  }

  private describe(): string {
    return this.loaded ? `${formatLabel(this.loaded.format)}, ${this.loaded.bytes.length} bytes` : 'none';
  }

  details(): IntroDetails {
    const why = this.verdict?.why;
    return {
      file: this.file,
      bytes: this.loaded?.bytes.length ?? 0,
      format: this.loaded ? formatLabel(this.loaded.format).slice(0, 200) : '',
      playing: !!this.loaded && !!this.verdict && !why,
      plays: this.plays,
      ...(why ? { error: why.slice(0, 1024) } : {}),
    };
  }
}
