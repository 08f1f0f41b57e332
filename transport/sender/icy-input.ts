// ICY metadata (SHOUTcast/Icecast in-stream titles) for listeners that ask with
// `Icy-MetaData: 1`: the stream's bytes with a metadata block after every `metaint` of them
// (one length byte L, then L×16 bytes: `StreamTitle='...';` padded with NULs). All such
// listeners share one multi-client sender: the bytes are pushed in units of `metaint` bytes
// followed by their block, and only a unit's first bytes are a keyframe, so every listener
// starts at a unit boundary and the count holds for all of them. Units go out as the bytes
// arrive (no added latency); the count never restarts, not even for a new upstream stream.

import { MultiClientSender } from './multi-client-sender';

export const MAX_ICY_TITLE = 4000;

/** The metadata block for `title` (an empty block, one zero byte, when there is none). */
export function icyBlock(title: string): Buffer {
  if (!title) return Buffer.from([0]);
  const text = Buffer.from(`StreamTitle='${title.replace(/'/g, '’').slice(0, MAX_ICY_TITLE)}';`, 'utf8');
  const n = Math.min(255, Math.ceil(text.length / 16));
  const block = Buffer.alloc(1 + n * 16);
  block[0] = n;
  text.copy(block, 1, 0, n * 16);
  return block;
}

export class IcyInput {
  private left: number;
  private block = icyBlock('');

  constructor(
    readonly sender: MultiClientSender,
    readonly metaint: number,
  ) {
    this.left = metaint;
  }

  /** Bytes before the next metadata block, after what was pushed so far. */
  get position(): number {
    return this.left;
  }

  setTitle(title: string): void {
    this.block = icyBlock(title);
  }

  data(payload: Buffer, ptsMs: number | null): void {
    let off = 0;
    while (off < payload.length) {
      const n = Math.min(this.left, payload.length - off);
      const chunk = payload.subarray(off, off + n);
      this.sender.push({ chunks: [chunk], size: n, ptsMs, keyframe: this.left === this.metaint });
      off += n;
      this.left -= n;
      if (this.left === 0) {
        this.sender.push({ chunks: [this.block], size: this.block.length, ptsMs, keyframe: false });
        this.left = this.metaint;
      }
    }
  }
}
